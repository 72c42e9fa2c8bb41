/**
 * bpftool's one-line type names (btf_dumper_type_only in bpftool's btf_dumper.c), as `prog dump
 * xlated` prints a function's prototype before its first instruction:
 *
 *     int hash_count_proto(struct xdp_md * ctx)
 *
 * Not C declarator syntax (that is dumpC's): every type prints as a prefix followed by a space,
 * pointers as "* ", arrays as "T [N]", and the name goes after.
 */
import { FormatError } from "../errors.js";
import type { Btf } from "./Btf.js";
import type { FuncProto } from "./types.js";

/** Deeper than this is a reference loop (hostile BTF). */
const MAX_DEPTH = 64;

/** The prototype of FUNC `funcId` ("int f(struct xdp_md * ctx)"), or of any type, as bpftool. */
export function bpftoolTypeName(btf: Btf, typeId: number): string {
  return typeOnly(btf, typeId, 0).trimEnd();
}

function typeOnly(btf: Btf, id: number, depth: number): string {
  if (id === 0) return "void ";
  const t = btf.typeById(id);
  if (depth > MAX_DEPTH)
    throw new FormatError(`type [${id}]: reference chain too long (a loop?)`, btf.file, btf.offsetOf(id));
  const next = (target: number): string => typeOnly(btf, target, depth + 1);
  switch (t.kind) {
    case "int":
    case "typedef":
    case "float":
      return `${t.name} `;
    case "struct":
    case "union":
    case "enum":
      return `${t.kind} ${t.name} `;
    case "enum64":
      return `enum ${t.name} `;
    case "fwd":
      return `${t.fwdKind} ${t.name} `;
    case "array":
      return `${next(t.elementId)}[${t.length}]`;
    case "ptr":
      return `${next(t.targetId)}* `;
    case "volatile":
    case "const":
    case "restrict":
      return `${t.kind} ${next(t.targetId)}`;
    case "type_tag":
      return next(t.targetId);
    case "func_proto":
      return func(btf, t, undefined, depth);
    case "func": {
      const proto = btf.typeById(t.protoId);
      if (proto.kind !== "func_proto")
        throw new FormatError(`FUNC [${id}] '${t.name}': not a FUNC_PROTO`, btf.file, btf.offsetOf(id));
      return func(btf, proto, t.name, depth);
    }
    default:
      return `${t.kind} ${t.name} `;
  }
}

/** bpftool's btf_dump_func: "RET NAME(T1 a, T2 b)", C-style unnamed parameters without a trailing space. */
function func(btf: Btf, proto: FuncProto, name: string | undefined, depth: number): string {
  let out = typeOnly(btf, proto.returnId, depth + 1) + (name !== undefined ? `${name}(` : "(");
  proto.params.forEach((p, i) => {
    if (i) out += ", ";
    if (p.typeId === 0) out += "...";
    else {
      out += typeOnly(btf, p.typeId, depth + 1);
      if (p.name) out += p.name;
      else if (out.endsWith(" ")) out = out.slice(0, -1);
    }
  });
  return out + ")";
}
