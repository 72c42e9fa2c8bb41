/**
 * The object's BTF as the kernel wants it (libbpf's btf_fixup_datasec, the extern collection step
 * and bpf_object__sanitize_btf): clang leaves every DATASEC with size 0 and its variables at offset
 * 0, so sizes and offsets come from the ELF sections and symbols (recorded in ObjectSpec.datasecs);
 * `.kconfig` variables move to their offsets in the kconfig map; `.ksyms` entries become 4-byte
 * allocated variables (kfunc FUNCs are replaced by a `dummy_ksym` VAR). The blob is patched in
 * place so string offsets, which line_info refers to, stay valid. Backend independent: the kernel
 * loads the result with BPF_BTF_LOAD, the VM decodes global data through the same layouts.
 */
import type { Btf } from "../btf/index.js";
import { BTF_TYPE_LEN, BtfKind, KIND_TABLE } from "../btf/index.js";
import type { ElfFile } from "../elf/index.js";
import { TsbpfError } from "../errors.js";
import type { LoadContext } from "./context.js";
import type { KconfigExtern, ObjectSpec } from "./spec.js";

const VAR_STATIC = 0;
const VAR_ALLOCATED = 1;
const FUNC_GLOBAL = 1;

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
    if (sec.name === ".ksyms") continue; // rebuilt by prepareObjectBtf
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

/** Where ELF sections and symbols lie, to fix DATASECs. */
export interface SectionLayout {
  sectionSize(name: string): number | undefined;
  symbolOffset(section: string, name: string): number | undefined;
}

/** A SectionLayout from the object's ELF file. */
export function elfLayout(elf: ElfFile): SectionLayout {
  return {
    sectionSize: (name) => elf.section(name)?.size,
    symbolOffset: (section, name) => {
      const s = elf.section(section);
      if (!s) return undefined;
      return elf.symbols.find((sym) => sym.sectionIndex === s.index && sym.name === name)?.value;
    },
  };
}

/** A SectionLayout from the DATASEC layouts the object loader recorded from the ELF. */
export function specDatasecLayout(spec: ObjectSpec, btf: Btf): SectionLayout {
  const byName = new Map(spec.datasecs.map((d) => [d.name, d]));
  return {
    sectionSize: (name) => byName.get(name)?.size,
    symbolOffset: (section, name) =>
      byName.get(section)?.vars.find((v) => btf.typeById(v.typeId).name === name)?.offset,
  };
}

/** A SectionLayout from the ObjectSpec's global data (exact even without DATASEC layouts). */
function specLayout(spec: ObjectSpec): SectionLayout {
  return {
    sectionSize: (name) => spec.globals.find((g) => g.section === name)?.size,
    symbolOffset: (section, name) =>
      spec.globals.find((g) => g.section === section)?.variables.find((v) => v.name === name)?.offset,
  };
}

/** How the blob was changed, for the debug log. */
export interface PreparedBtf {
  readonly blob: Uint8Array;
  readonly notes: readonly string[];
}

interface Vsi {
  typeId: number;
  offset: number;
  size: number;
}

/**
 * The object's BTF fixed for BPF_BTF_LOAD (see the module comment). `layout` gives ELF section
 * sizes and symbol offsets; without it global data still comes out exact and other sections
 * (.maps, license) are laid out in declaration order.
 */
export function prepareObjectBtf(spec: ObjectSpec, btf: Btf, layout?: SectionLayout): PreparedBtf {
  const notes: string[] = [];
  const fromSpec = specLayout(spec);
  const bytes = btf.bytes.slice();
  const v = new DataView(bytes.buffer);
  const le = btf.littleEndian;
  const u32 = (at: number): number => v.getUint32(at, le);
  const setU32 = (at: number, x: number): void => v.setUint32(at, x >>> 0, le);
  const appendTypes: Uint8Array[] = [];
  const appendStrings: string[] = [];
  let nextId = btf.count;
  let nextStr = btf.header.strLen;
  const addString = (s: string): number => {
    const off = nextStr;
    appendStrings.push(s);
    nextStr += new TextEncoder().encode(s).length + 1;
    return off;
  };

  const readVsis = (rec: number, vlen: number): Vsi[] =>
    Array.from({ length: vlen }, (_, i) => ({
      typeId: u32(rec + 12 + i * 12),
      offset: u32(rec + 16 + i * 12),
      size: u32(rec + 20 + i * 12),
    }));
  const writeVsis = (rec: number, vsis: readonly Vsi[]): void =>
    vsis.forEach((s, i) => {
      setU32(rec + 12 + i * 12, s.typeId);
      setU32(rec + 16 + i * 12, s.offset);
      setU32(rec + 20 + i * 12, s.size);
    });
  const setVarLinkage = (id: number, linkage: number, typeId?: number): void => {
    const rec = btf.offsetOf(id);
    if (rec === undefined) return;
    if (typeId !== undefined) setU32(rec + 8, typeId);
    setU32(rec + 12, linkage);
  };
  const int32Id = (): number => {
    for (let id = btf.firstId; id < btf.count; id++) {
      const t = btf.typeById(id);
      if (t.kind === "int" && t.bits === 32) return id;
    }
    // None in the object: add `int`.
    const rec = new Uint8Array(16);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, addString("int"), le);
    rv.setUint32(4, BtfKind.Int << 24, le);
    rv.setUint32(8, 4, le);
    rv.setUint32(12, (1 << 24) | 32, le); // signed, 32 bits
    appendTypes.push(rec);
    return nextId++;
  };

  for (let id = btf.firstId; id < btf.count; id++) {
    if (btf.kindOf(id) !== "datasec") continue;
    const t = btf.typeById(id);
    if (t.kind !== "datasec") continue;
    const rec = btf.offsetOf(id)!;
    const vsis = readVsis(rec, t.vars.length);
    let size = t.size;

    if (t.name === ".ksyms") {
      // libbpf: every extern becomes a 4-byte allocated variable at offsets 0, 4, 8…
      let intId: number | undefined;
      let dummyId: number | undefined;
      let dummyName = 0;
      vsis.forEach((s, i) => {
        const target = btf.typeById(s.typeId);
        intId ??= int32Id();
        if (target.kind === "func") {
          if (dummyId === undefined) {
            dummyName = addString("dummy_ksym");
            const var_ = new Uint8Array(16);
            const dv = new DataView(var_.buffer);
            dv.setUint32(0, dummyName, le);
            dv.setUint32(4, BtfKind.Var << 24, le);
            dv.setUint32(8, intId, le);
            dv.setUint32(12, VAR_ALLOCATED, le);
            appendTypes.push(var_);
            dummyId = nextId++;
          }
          const frec = btf.offsetOf(target.id)!;
          setU32(frec + 4, (u32(frec + 4) & ~0xffff) | FUNC_GLOBAL);
          // The kernel wants named parameters in a global function's prototype.
          const proto = target.proto;
          const prec = btf.offsetOf(proto.id);
          if (proto.kind === "func_proto" && prec !== undefined)
            proto.params.forEach((p, j) => {
              if (p.typeId !== 0 && p.name === "") setU32(prec + 12 + j * 8, dummyName);
            });
          s.typeId = dummyId;
        } else if (target.kind === "var") {
          setVarLinkage(target.id, VAR_ALLOCATED, intId);
        }
        s.offset = i * 4;
        s.size = 4;
      });
      size = vsis.length * 4;
      notes.push(`.ksyms: ${vsis.length} extern(s) as 4-byte variables`);
    } else if (t.name === ".kconfig") {
      for (const s of vsis) {
        const target = btf.typeById(s.typeId);
        const ext = spec.kconfig.find((k) => k.name === target.name);
        if (ext) s.offset = ext.offset;
        if (target.kind === "var") setVarLinkage(target.id, VAR_ALLOCATED);
      }
      size =
        spec.maps.find((m) => m.section === ".kconfig")?.valueSize ??
        Math.max(0, ...vsis.map((s) => s.offset + s.size));
    } else if (size === 0) {
      const known = fromSpec.sectionSize(t.name) ?? layout?.sectionSize(t.name);
      let fallback = 0;
      for (const s of vsis) {
        const target = btf.typeById(s.typeId);
        const off = fromSpec.symbolOffset(t.name, target.name) ?? layout?.symbolOffset(t.name, target.name);
        if (off !== undefined) s.offset = off;
        else {
          // No symbol (static variable optimised away, or no ELF): lay out in order.
          s.offset = Math.ceil(fallback / 8) * 8;
          if (target.kind === "var") setVarLinkage(target.id, VAR_STATIC);
        }
        fallback = Math.max(fallback, s.offset + s.size);
      }
      size = known ?? fallback;
      if (known === undefined) notes.push(`${t.name}: size ${size} laid out without the ELF section`);
    }
    vsis.sort((a, b) => a.offset - b.offset);
    setU32(rec + 8, size);
    writeVsis(rec, vsis);
  }

  if (appendTypes.length === 0) return { blob: bytes, notes };
  return { blob: appendToBlob(bytes, btf, appendTypes, appendStrings), notes };
}

/** Adds type records after the type section and strings after the string section. */
function appendToBlob(
  bytes: Uint8Array,
  btf: Btf,
  types: readonly Uint8Array[],
  strings: readonly string[],
): Uint8Array {
  const h = btf.header;
  const enc = new TextEncoder();
  const strBytes = strings.map((s) => enc.encode(`${s}\0`));
  const addTypes = types.reduce((n, t) => n + t.length, 0);
  const addStrs = strBytes.reduce((n, s) => n + s.length, 0);
  const typeStart = h.hdrLen + h.typeOff;
  const strStart = h.hdrLen + h.strOff;
  if (strStart < typeStart + h.typeLen)
    throw new TsbpfError("object BTF: string section before the type section (cannot extend it)");
  const out = new Uint8Array(h.hdrLen + h.typeLen + addTypes + h.strLen + addStrs);
  out.set(bytes.subarray(0, h.hdrLen), 0);
  let at = h.hdrLen;
  out.set(bytes.subarray(typeStart, typeStart + h.typeLen), at);
  at += h.typeLen;
  for (const t of types) {
    out.set(t, at);
    at += t.length;
  }
  const newStrOff = at - h.hdrLen;
  out.set(bytes.subarray(strStart, strStart + h.strLen), at);
  at += h.strLen;
  for (const s of strBytes) {
    out.set(s, at);
    at += s.length;
  }
  const v = new DataView(out.buffer);
  const le = btf.littleEndian;
  v.setUint32(8, 0, le);
  v.setUint32(12, h.typeLen + addTypes, le);
  v.setUint32(16, newStrOff, le);
  v.setUint32(20, h.strLen + addStrs, le);
  return out;
}

/**
 * The blob with the kinds old kernels reject replaced by same-sized stand-ins (libbpf's
 * bpf_object__sanitize_btf): decl_tag -> int, type_tag -> const, float -> struct.
 * Type ids and string offsets stay the same.
 */
export function sanitizeBtfKinds(blob: Uint8Array, littleEndian: boolean): Uint8Array {
  const out = blob.slice();
  const v = new DataView(out.buffer);
  const le = littleEndian;
  const hdrLen = v.getUint32(4, le);
  const typeStart = hdrLen + v.getUint32(8, le);
  const typeEnd = typeStart + v.getUint32(12, le);
  let at = typeStart;
  while (at + 12 <= typeEnd) {
    const info = v.getUint32(at + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const row = KIND_TABLE[kind];
    if (!row) throw new TsbpfError(`object BTF: unknown kind ${kind} at byte ${at}`);
    const len = BTF_TYPE_LEN + row.fixed + vlen * row.perVlen;
    switch (kind) {
      case BtfKind.DeclTag: // 12 + 4 bytes, like an int
        v.setUint32(at, 0, le);
        v.setUint32(at + 4, BtfKind.Int << 24, le);
        v.setUint32(at + 8, 1, le);
        v.setUint32(at + 12, 8, le);
        break;
      case BtfKind.TypeTag: // same record as const
        v.setUint32(at, 0, le);
        v.setUint32(at + 4, BtfKind.Const << 24, le);
        break;
      case BtfKind.Float: // size stays, no members
        v.setUint32(at + 4, BtfKind.Struct << 24, le);
        break;
    }
    at += len;
  }
  return out;
}
