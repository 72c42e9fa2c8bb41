/**
 * The text format of `bpftool btf dump ... format raw`:
 * `[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED`, members on tab-indented lines.
 */
import type { Btf } from "./Btf.js";
import { KIND_NUMBER, KIND_TABLE } from "./kinds.js";
import type { BtfType } from "./types.js";

const INT_ENCODINGS: Readonly<Record<number, string>> = { 0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL" };

/** What follows `[id] KIND 'name'` for each kind. */
const DETAILS: { readonly [K in BtfType["kind"]]: (t: Extract<BtfType, { kind: K }>, btf: Btf) => string } = {
  void: () => "",
  int: (t) =>
    ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${INT_ENCODINGS[t.encoding] ?? "UNKN"}`,
  ptr: (t) => ` type_id=${t.targetId}`,
  typedef: (t) => ` type_id=${t.targetId}`,
  volatile: (t) => ` type_id=${t.targetId}`,
  const: (t) => ` type_id=${t.targetId}`,
  restrict: (t) => ` type_id=${t.targetId}`,
  type_tag: (t) => ` type_id=${t.targetId}`,
  array: (t) => ` type_id=${t.elementId} index_type_id=${t.indexId} nr_elems=${t.length}`,
  struct: (t) => composite(t),
  union: (t) => composite(t),
  enum: (t) =>
    ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}` +
    t.values.map((v) => `\n\t'${v.name}' val=${v.value}`).join(""),
  enum64: (t) =>
    ` encoding=${t.signed ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}` +
    t.values.map((v) => `\n\t'${v.name}' val=${v.value}${t.signed ? "LL" : "ULL"}`).join(""),
  fwd: (t) => ` fwd_kind=${t.fwdKind}`,
  func: (t) => ` type_id=${t.protoId} linkage=${t.linkage}`,
  func_proto: (t) =>
    ` ret_type_id=${t.returnId} vlen=${t.params.length}` +
    t.params.map((p) => `\n\t'${p.name || "(anon)"}' type_id=${p.typeId}`).join(""),
  var: (t) => ` type_id=${t.typeId}, linkage=${t.linkage}`,
  datasec: (t, btf) =>
    ` size=${t.size} vlen=${t.vars.length}` +
    t.vars
      .map((v) => {
        const target = btf.typeById(v.typeId);
        const kind = KIND_TABLE[KIND_NUMBER[target.kind]]!.upper;
        return `\n\ttype_id=${v.typeId} offset=${v.offset} size=${v.size} (${kind} '${target.name}')`;
      })
      .join(""),
  float: (t) => ` size=${t.size}`,
  decl_tag: (t) => ` type_id=${t.targetId} component_idx=${t.componentIdx}`,
};

function composite(t: BtfType & { kind: "struct" | "union" }): string {
  return (
    ` size=${t.size} vlen=${t.members.length}` +
    t.members
      .map(
        (m) =>
          `\n\t'${m.name || "(anon)"}' type_id=${m.typeId} bits_offset=${m.bitOffset}` +
          (m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ""),
      )
      .join("")
  );
}

/** One type in bpftool's raw format (without a trailing newline). */
export function formatRawType(btf: Btf, t: BtfType): string {
  const kind = KIND_TABLE[KIND_NUMBER[t.kind]]!.upper;
  const details = DETAILS[t.kind] as (t: BtfType, btf: Btf) => string;
  return `[${t.id}] ${kind} '${t.name || "(anon)"}'${details(t, btf)}`;
}

/** All of a Btf's own types in bpftool's raw format, one per line (members on following lines). */
export function dumpRaw(btf: Btf): string {
  const lines: string[] = [];
  for (const t of btf.types()) lines.push(formatRawType(btf, t));
  return lines.join("\n") + (lines.length ? "\n" : "");
}
