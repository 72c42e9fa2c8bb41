/**
 * Extern symbols of an object: `extern ... __kconfig` variables laid out in the `.kconfig` map
 * the way libbpf does (sorted by alignment, then size, then name), with their values from the
 * caller's kernel configuration; and `extern ... __ksym` kernel functions and variables, which
 * a backend resolves.
 */
import type { BtfType } from "../btf/index.js";
import { alignof, resolveTypedefs, sizeof, skipModifiers } from "../btf/index.js";
import type { ElfSymbol } from "../elf/index.js";
import { SHN_UNDEF, STB_WEAK } from "../elf/index.js";
import { TsbpfError } from "../errors.js";
import { datasecOf, objectError, type LoadContext } from "./context.js";
import type { KconfigExtern, KconfigKind, KsymExtern } from "./spec.js";

/**
 * Kernel configuration values by name (CONFIG_FOO, LINUX_KERNEL_VERSION…). A string is read as
 * in a .config file: "y", "n", "m", a number ("0x10", "-3") or a quoted string; booleans mean
 * y/n; numbers and bigints are numeric values.
 */
export type KconfigValue = string | number | bigint | boolean;
export type KconfigValues = Readonly<Record<string, KconfigValue>>;

/** A required extern (not __weak) that has no value, or a value that does not fit. */
export class KconfigError extends TsbpfError {
  override name = "KconfigError";
}

export interface Externs {
  readonly kconfig: KconfigExtern[];
  /** Bytes of the `.kconfig` map value (undefined when there is no kconfig extern). */
  readonly kconfigData: Uint8Array | undefined;
  readonly kconfigDatasecId: number;
  readonly ksyms: KsymExtern[];
  /** Extern symbol name -> what it is. */
  readonly byName: ReadonlyMap<string, { kconfig?: KconfigExtern; ksym?: KsymExtern }>;
}

/** Far more than any kernel configuration needs; guards against absurd BTF array sizes. */
const MAX_KCONFIG_BYTES = 1 << 20;

interface KcfgLayout {
  name: string;
  kind: KconfigKind;
  size: number;
  align: number;
  signed: boolean;
  weak: boolean;
}

/** Collects the externs; `kconfig` supplies values, called only when the object has kconfig externs. */
export function collectExterns(
  ctx: LoadContext,
  kconfig: KconfigValues | (() => KconfigValues) | undefined,
): Externs {
  const undefinedSyms = ctx.elf.symbols.filter(
    (s) => s.index !== 0 && s.sectionIndex === SHN_UNDEF && s.name !== "",
  );
  const kconfigSec = datasecOf(ctx.btf, ".kconfig");
  const ksymsSec = datasecOf(ctx.btf, ".ksyms");
  const inSec = (sec: typeof kconfigSec, name: string): BtfType | undefined =>
    sec?.vars.map((v) => v.type).find((t) => t.name === name);

  const layouts: KcfgLayout[] = [];
  const ksyms: KsymExtern[] = [];
  for (const sym of undefinedSyms) {
    const weak = sym.bind === STB_WEAK;
    const kcfgVar = inSec(kconfigSec, sym.name);
    if (kcfgVar) {
      if (kcfgVar.kind !== "var")
        throw objectError(ctx, `extern '${sym.name}' in .kconfig is a ${kcfgVar.kind}, not a variable`);
      layouts.push(kcfgLayout(ctx, sym, kcfgVar.type, weak));
      continue;
    }
    const ksym = inSec(ksymsSec, sym.name);
    if (ksym) {
      if (ksym.kind === "func")
        ksyms.push({ name: sym.name, kind: "func", weak, typed: true, btfId: ksym.id });
      else if (ksym.kind === "var")
        ksyms.push({
          name: sym.name,
          kind: "var",
          weak,
          typed: skipModifiers(ksym.type).kind !== "void",
          btfId: ksym.id,
        });
      else throw objectError(ctx, `extern '${sym.name}' in .ksyms is a ${ksym.kind}`);
      continue;
    }
    if (/^(CONFIG_|LINUX_)/.test(sym.name) && ctx.btf === undefined)
      throw objectError(ctx, `extern '${sym.name}': .kconfig externs need the object's BTF`);
    // Without BTF (or a DATASEC entry) an extern can still be a kfunc: calls decide later.
    ksyms.push({ name: sym.name, kind: "func", weak, typed: false, btfId: 0 });
  }

  // libbpf's cmp_externs: alignment descending, size ascending, then name.
  layouts.sort(
    (a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const kconfigExterns: KconfigExtern[] = [];
  let offset = 0;
  const offsets: number[] = [];
  for (const l of layouts) {
    offset = Math.ceil(offset / l.align) * l.align;
    offsets.push(offset);
    offset += l.size;
  }
  let data: Uint8Array | undefined;
  if (offset > MAX_KCONFIG_BYTES)
    throw objectError(ctx, `.kconfig externs need ${offset} bytes (more than ${MAX_KCONFIG_BYTES})`);
  if (layouts.length > 0) {
    data = new Uint8Array(offset);
    const values = typeof kconfig === "function" ? kconfig() : (kconfig ?? {});
    layouts.forEach((l, i) => {
      const at = offsets[i]!;
      const value = values[l.name];
      if (value === undefined && !l.weak)
        throw new KconfigError(
          `${ctx.file ?? "object"}: extern '${l.name}' (.kconfig) has no value: give it in the kconfig option or declare it __weak`,
        );
      if (value !== undefined) writeKcfg(ctx, l, value, data!.subarray(at, at + l.size));
      kconfigExterns.push({
        name: l.name,
        kind: l.kind,
        offset: at,
        size: l.size,
        signed: l.signed,
        weak: l.weak,
        resolved: value !== undefined,
      });
    });
  }
  const byName = new Map<string, { kconfig?: KconfigExtern; ksym?: KsymExtern }>();
  for (const k of kconfigExterns) byName.set(k.name, { kconfig: k });
  for (const k of ksyms) byName.set(k.name, { ksym: k });
  return { kconfig: kconfigExterns, kconfigData: data, kconfigDatasecId: kconfigSec?.id ?? 0, ksyms, byName };
}

/** libbpf's find_kcfg_type. */
function kcfgLayout(ctx: LoadContext, sym: ElfSymbol, type: BtfType, weak: boolean): KcfgLayout {
  const t = resolveTypedefs(type);
  const bad = (): never => {
    throw objectError(
      ctx,
      `extern '${sym.name}' (.kconfig): type ${t.kind} '${t.name}' is not a supported kconfig type`,
    );
  };
  const base = { name: sym.name, weak, size: sizeof(t), align: alignof(t), signed: false };
  switch (t.kind) {
    case "int":
      if (t.isBool) return t.size === 1 ? { ...base, kind: "bool" } : bad();
      if (t.size === 1) return { ...base, kind: "char", signed: t.signed };
      if (![2, 4, 8].includes(t.size)) return bad();
      return { ...base, kind: "int", signed: t.signed };
    case "enum":
    case "enum64":
      return t.name === "libbpf_tristate" ? { ...base, kind: "tristate" } : bad();
    case "array": {
      const el = resolveTypedefs(t.element);
      if (t.length === 0 || el.kind !== "int" || el.size !== 1 || el.isBool) return bad();
      return { ...base, kind: "char-array", align: 1 };
    }
    default:
      return bad();
  }
}

/** Writes a value as libbpf's set_kcfg_value_{tri,str,num} would. */
function writeKcfg(ctx: LoadContext, l: KcfgLayout, value: KconfigValue, out: Uint8Array): void {
  const fail = (why: string): never => {
    throw new KconfigError(`${ctx.file ?? "object"}: extern '${l.name}' (${l.kind}): ${why}`);
  };
  let v: KconfigValue = value;
  if (typeof v === "boolean") v = v ? "y" : "n";
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "y" || s === "n" || s === "m") {
      const tri = { n: 0, y: 1, m: 2 }[s];
      if (l.kind === "bool") out[0] = s === "m" ? fail("value 'm' is not allowed for a bool") : tri;
      else if (l.kind === "tristate")
        new DataView(out.buffer, out.byteOffset, out.length).setUint32(0, tri, true);
      else if (l.kind === "char") out[0] = s.charCodeAt(0);
      else fail(`value '${s}' does not fit`);
      return;
    }
    if (l.kind === "char-array") {
      const text = s.startsWith('"')
        ? s.endsWith('"') && s.length >= 2
          ? s.slice(1, -1)
          : fail("unterminated string")
        : s;
      const bytes = new TextEncoder().encode(text);
      out.set(bytes.subarray(0, out.length - 1));
      return;
    }
    let n: bigint;
    try {
      n = s.startsWith("-") ? -BigInt(s.slice(1)) : BigInt(s);
    } catch {
      return fail(`value '${s}' is not a number`);
    }
    v = n;
  }
  if (l.kind !== "int" && l.kind !== "char") return fail("a numeric value needs an integer or char extern");
  const n = BigInt(v);
  const bits = BigInt(l.size * 8);
  const fits = l.signed ? n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n) : n >= 0n && n < 1n << bits;
  if (!fits) fail(`value ${n} does not fit in ${l.size} bytes`);
  const u = BigInt.asUintN(Number(bits), n);
  for (let i = 0; i < l.size; i++) out[i] = Number((u >> BigInt(8 * i)) & 0xffn);
}
