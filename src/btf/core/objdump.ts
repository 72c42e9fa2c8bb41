/**
 * llvm-objdump's one-line description of a CO-RE relocation (`llvm-objdump -dr` prints it after
 * the instruction, LLVM's BTFParser::symbolize):
 *
 *     <byte_off> [5] struct task_struct::tgid (0:93)
 *     <byte_off> [10] struct trace_event_raw_sys_enter::args[2] (0:2:2)
 *     <type_exists> [7] struct foo
 *     <enumval_value> [5] enum foo::V = 2
 *
 * An access string that does not fit the types prints as `<kind> [id] 'spec' <why>`.
 */
import type { Btf } from "../Btf.js";
import { CORE_RELO_KIND_NAMES, type CoreRelo } from "../ext.js";
import { KIND_NUMBER } from "../kinds.js";
import type { BtfType } from "../types.js";
import { isEnumvalKind, isFieldKind, isTypeKind } from "./spec.js";

const MODIFIERS: Readonly<Record<string, (t: BtfType) => string>> = {
  const: () => " const",
  volatile: () => " volatile",
  restrict: () => " restrict",
  type_tag: (t) => ` type_tag("${t.name}")`,
};

const PREFIX: Readonly<Record<string, string>> = {
  typedef: " typedef",
  struct: " struct",
  union: " union",
  enum: " enum",
  enum64: " enum",
};

/** Past modifiers and typedefs (at most 32). */
function skipModsAndTypedefs(t: BtfType): BtfType {
  for (let i = 0; i < 32 && (t.kind in MODIFIERS || t.kind === "typedef"); i++)
    t = (t as BtfType & { target: BtfType }).target;
  return t;
}

const nameOrAnon = (name: string, index: number): string => name || `<anon ${index}>`;

/** The description of `relo` against the object's BTF `btf`. */
export function describeCoreRelo(btf: Btf, relo: CoreRelo): string {
  const kind = `<${CORE_RELO_KIND_NAMES[relo.kind] ?? `reloc kind #${relo.kind}`}>`;
  const fail = (why: string): string => `${kind} [${relo.typeId}] '${relo.accessStr}' <${why}>`;
  const spec = relo.accessStr.split(":").map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (relo.accessStr !== "" && spec.some(Number.isNaN)) return fail("spec string is not a number");
  const typeAt = (id: number): BtfType | undefined => (id < btf.count ? btf.typeById(id) : undefined);

  let type = typeAt(relo.typeId);
  if (!type) return fail(`unknown type id: ${relo.typeId}`);
  let out = `${kind} [${relo.typeId}]`;
  for (let chain = 0; type.kind in MODIFIERS; chain++) {
    if (chain >= 32) return fail("modifiers chain is too long");
    out += MODIFIERS[type.kind]!(type);
    type = (type as BtfType & { target: BtfType }).target;
  }
  const prefix = type.kind === "fwd" ? ` fwd ${type.fwdKind}` : (PREFIX[type.kind] ?? "");
  out += type.id === 0 ? " void" : `${prefix} ${nameOrAnon(type.name, type.id)}`;

  if (isTypeKind(relo.kind)) {
    if (spec.length !== 1 || spec[0] !== 0)
      return fail("unexpected type-based relocation spec: should be '0'");
    return out;
  }
  out += "::";
  if (isEnumvalKind(relo.kind)) {
    type = skipModsAndTypedefs(type);
    if (spec.length !== 1) return fail("unexpected enumval relocation spec size");
    const index = spec[0]!;
    if (type.kind !== "enum" && type.kind !== "enum64")
      return fail(`unexpected type kind for enum relocation: ${KIND_NUMBER[type.kind]}`);
    const value = type.values[index];
    if (!value) return fail(`bad value index: ${index}`);
    // the parser already reads values as signed or unsigned by the enum's flag, as LLVM prints them
    return `${out}${nameOrAnon(value.name, index)} = ${value.value}`;
  }
  if (!isFieldKind(relo.kind)) return fail(`unknown relocation kind: ${relo.kind}`);
  if (spec.length < 1 || relo.accessStr === "") return fail("field spec too short");
  if (spec[0] !== 0) out += `[${spec[0]}]`;
  for (let i = 1; i < spec.length; i++) {
    type = skipModsAndTypedefs(type);
    const index = spec[i]!;
    if (type.kind === "struct" || type.kind === "union") {
      const member = type.members[index];
      if (!member) return fail(`member index ${index} for spec sub-string ${i} is out of range`);
      if (i !== 1 || spec[0] !== 0) out += ".";
      out += nameOrAnon(member.name, index);
      const next = typeAt(member.typeId);
      if (!next) return fail(`unknown member type id ${member.typeId} for spec sub-string ${i}`);
      type = next;
    } else if (type.kind === "array") {
      out += `[${index}]`;
      const next = typeAt(type.elementId);
      if (!next) return fail(`unknown element type id ${type.elementId} for spec sub-string ${i}`);
      type = next;
    } else return fail(`unexpected type kind ${KIND_NUMBER[type.kind]} for spec sub-string ${i}`);
  }
  return `${out} (${relo.accessStr})`;
}
