/**
 * Human-readable CO-RE specs: a C-like access expression (`struct task_struct.real_parent`,
 * `enum bpf_map_type::BPF_MAP_TYPE_RINGBUF`) and libbpf's spec format
 * (`[5] struct task_struct.real_parent (0:95 @ offset 1280)`).
 */
import type { BtfType } from "../types.js";
import { isEnumvalKind, isTypeKind, type CoreSpec } from "./spec.js";

/** A type as C would name it: `struct task_struct`, `unsigned int`, `pid_t`, `char[16]`, `struct file *`. */
export function describeType(t: BtfType, depth = 0): string {
  if (depth > 8) return "...";
  switch (t.kind) {
    case "struct":
    case "union":
      return `${t.kind} ${t.name || "<anon>"}`;
    case "enum":
    case "enum64":
      return `enum ${t.name || "<anon>"}`;
    case "fwd":
      return `${t.fwdKind} ${t.name} (forward declaration)`;
    case "ptr":
      return `${describeType(t.target, depth + 1)} *`;
    case "array":
      return `${describeType(t.element, depth + 1)}[${t.length}]`;
    case "const":
    case "volatile":
    case "restrict":
      return `${t.kind} ${describeType(t.target, depth + 1)}`;
    case "type_tag":
      return describeType(t.target, depth + 1);
    case "func_proto":
      return "function prototype";
    case "void":
      return "void";
    default:
      return t.name || `<anon ${t.kind}>`;
  }
}

/**
 * The access of a spec as a C-like expression starting from its root type: field relocations
 * `struct task_struct.real_parent`, `struct sample[1].a[3]`; enumerators
 * `enum bpf_map_type::BPF_MAP_TYPE_RINGBUF`; types `struct bpf_iter_num`.
 */
export function accessExpression(spec: CoreSpec): string {
  const root = describeType(spec.btf.typeById(spec.rootTypeId));
  if (isTypeKind(spec.kind)) return root;
  if (isEnumvalKind(spec.kind)) return `${root}::${spec.accessors[0]?.name ?? "?"}`;
  let out = root;
  spec.accessors.forEach((a, i) => {
    if (a.name !== undefined) out += `.${a.name}`;
    else if (i > 0 || a.index > 0) out += `[${a.index}]`;
  });
  return out;
}

/** libbpf's bpf_core_format_spec: `[id] kind name` plus the access, raw path and offset. */
export function formatCoreSpec(spec: CoreSpec): string {
  const t = spec.btf.typeById(spec.rootTypeId);
  const head = `[${spec.rootTypeId}] ${t.kind} ${t.name || "<anon>"}`;
  if (isTypeKind(spec.kind)) return head;
  if (isEnumvalKind(spec.kind)) {
    const a = spec.accessors[0];
    const e = a && spec.btf.typeById(a.typeId);
    const v = e && (e.kind === "enum" || e.kind === "enum64") ? e.values[a.index] : undefined;
    return `${head}::${a?.name ?? "?"}${v ? ` = ${String(v.value)}` : ""}`;
  }
  let access = "";
  spec.accessors.forEach((a, i) => {
    if (a.name !== undefined) access += `.${a.name}`;
    else if (i > 0 || a.index > 0) access += `[${a.index}]`;
  });
  const bits = spec.bitOffset % 8;
  const offset = `${Math.floor(spec.bitOffset / 8)}${bits ? `.${bits}` : ""}`;
  return `${head}${access} (${spec.raw.join(":")} @ offset ${offset})`;
}
