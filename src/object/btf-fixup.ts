/**
 * Making an object's BTF acceptable to the kernel, as libbpf does at open time
 * (btf_fixup_datasec and the extern collection step): clang leaves DATASEC sizes and variable
 * offsets at 0 and marks externs with a linkage the kernel refuses. The layout comes from the
 * ELF (section sizes, symbol values) and from the .kconfig layout; encodeObjectBtf applies it.
 */
import type { Btf, BtfType } from "../btf/index.js";
import { encodeBtf, type EncodableType } from "../btf/index.js";
import { datasecOf, type LoadContext } from "./context.js";
import type { KconfigExtern } from "./spec.js";

/** The real size of a DATASEC and the offset of each of its entries. */
export interface DatasecLayout {
  readonly btfId: number;
  readonly name: string;
  readonly size: number;
  /** Per entry of the DATASEC, in its order: the VAR (or FUNC) id and its offset and size. */
  readonly vars: readonly { readonly typeId: number; readonly offset: number; readonly size: number }[];
}

/** Layouts of every DATASEC of the object's BTF that has an ELF section or is .kconfig. */
export function datasecLayouts(ctx: LoadContext, kconfig: readonly KconfigExtern[]): DatasecLayout[] {
  const btf = ctx.btf;
  if (!btf) return [];
  const out: DatasecLayout[] = [];
  for (let id = btf.firstId; id < btf.count; id++) {
    if (btf.kindOf(id) !== "datasec") continue;
    const sec = btf.typeById(id);
    if (sec.kind !== "datasec") continue;
    if (sec.name === ".kconfig") {
      const size = kconfig.reduce((n, k) => Math.max(n, k.offset + k.size), 0);
      const vars = sec.vars.map((v) => {
        const k = kconfig.find((x) => x.name === v.type.name);
        return { typeId: v.typeId, offset: k?.offset ?? 0, size: k?.size ?? v.size };
      });
      out.push({ btfId: id, name: sec.name, size, vars });
      continue;
    }
    if (sec.name === ".ksyms") continue; // rebuilt by encodeObjectBtf
    const section = ctx.elf.section(sec.name);
    if (!section) continue;
    const vars = sec.vars.map((v) => {
      const name = v.type.name;
      const sym = ctx.elf.symbols.find((s) => s.sectionIndex === section.index && s.name === name);
      return { typeId: v.typeId, offset: sym?.value ?? v.offset, size: v.size };
    });
    out.push({ btfId: id, name: sec.name, size: section.size, vars });
  }
  return out;
}

/**
 * The object's BTF with DATASEC sizes and offsets filled in (entries sorted by offset), .kconfig
 * variables and extern functions made global, and .ksyms entries replaced by int variables as libbpf does, encoded
 * for BPF_BTF_LOAD. Type ids are unchanged except that a dummy `int` and a dummy variable may be
 * appended for .ksyms.
 */
export function encodeObjectBtf(btf: Btf, layouts: readonly DatasecLayout[]): Uint8Array {
  const types: EncodableType[] = [];
  // The kernel accepts only static and global FUNCs: extern ones (kfunc declarations) become global.
  for (const t of btf.types())
    types.push(
      t.kind === "func" && t.linkage === "extern" ? { ...t, linkage: "global" } : (t as EncodableType),
    );
  const at = (id: number): EncodableType => types[id - btf.firstId]!;
  for (const l of layouts) {
    const sec = at(l.btfId);
    if (sec.kind !== "datasec") continue;
    const vars = [...l.vars].sort((a, b) => a.offset - b.offset);
    types[l.btfId - btf.firstId] = { ...sec, size: l.size, vars };
    if (l.name === ".kconfig")
      for (const v of l.vars) {
        const t = at(v.typeId);
        if (t.kind === "var") types[v.typeId - btf.firstId] = { ...t, linkage: "global" };
      }
  }
  const ksyms = datasecOf(btf, ".ksyms");
  if (ksyms && ksyms.vars.length > 0) {
    // libbpf: extern variables become `int` variables, functions share one dummy variable,
    // all 4 bytes apart; kfunc prototypes get names for unnamed parameters.
    let intId = findInt(btf);
    if (intId === undefined) {
      types.push({ kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 });
      intId = btf.firstId + types.length - 1;
    }
    types.push({ kind: "var", name: "dummy_ksym", typeId: intId, linkage: "global" });
    const dummyId = btf.firstId + types.length - 1;
    const vars = ksyms.vars.map((v, i) => {
      const t: BtfType = v.type;
      if (t.kind === "var") types[t.id - btf.firstId] = { ...t, typeId: intId, linkage: "global" };
      if (t.kind === "func") nameParams(btf, types, t.protoId);
      return { typeId: t.kind === "func" ? dummyId : v.typeId, offset: i * 4, size: 4 };
    });
    types[ksyms.id - btf.firstId] = { ...ksyms, size: vars.length * 4, vars };
  }
  return encodeBtf(types, { littleEndian: btf.littleEndian });
}

function findInt(btf: Btf): number | undefined {
  for (const id of btf.idsByName("int")) {
    const t = btf.typeById(id);
    if (t.kind === "int" && t.size === 4) return id;
  }
  return undefined;
}

function nameParams(btf: Btf, types: EncodableType[], protoId: number): void {
  if (protoId < btf.firstId) return;
  const proto = types[protoId - btf.firstId];
  if (proto?.kind !== "func_proto") return;
  if (proto.params.every((p) => p.name !== "" || p.typeId === 0)) return;
  types[protoId - btf.firstId] = {
    ...proto,
    params: proto.params.map((p) => (p.name === "" && p.typeId !== 0 ? { ...p, name: "dummy_ksym" } : p)),
  };
}
