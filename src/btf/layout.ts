/**
 * Size, alignment and the modifier/typedef-skipping walks of libbpf (btf__resolve_size,
 * btf__align_of, btf__resolve_type, skip_mods_and_typedefs). Chains are followed at most
 * MAX_RESOLVE_DEPTH steps, so a reference loop in bad BTF ends in a FormatError, not a hang.
 */
import { FormatError } from "../errors.js";
import { KIND_TABLE, KIND_NUMBER } from "./kinds.js";
import { resolverOf, type BtfType } from "./types.js";

/** libbpf's MAX_RESOLVE_DEPTH. */
export const MAX_RESOLVE_DEPTH = 32;

/** Size of a pointer on the BPF target. */
export const BPF_PTR_SIZE = 8;

/** A FormatError about type `t`, naming its record's offset when known. */
export function typeError(t: BtfType, message: string): FormatError {
  const kind = KIND_TABLE[KIND_NUMBER[t.kind]]!.upper;
  const r = resolverOf(t);
  return new FormatError(`type [${t.id}] ${kind} '${t.name}': ${message}`, r?.file, r?.offsetOf?.(t.id));
}

function loop(t: BtfType): FormatError {
  return typeError(t, `reference chain longer than ${MAX_RESOLVE_DEPTH} (a type loop?)`);
}

/** Follows const, volatile, restrict and type tags. */
export function skipModifiers(t: BtfType): BtfType {
  for (let i = 0; i <= MAX_RESOLVE_DEPTH; i++) {
    if (t.kind !== "const" && t.kind !== "volatile" && t.kind !== "restrict" && t.kind !== "type_tag")
      return t;
    t = t.target;
  }
  throw loop(t);
}

/** Follows typedefs and modifiers to the type that defines the layout. */
export function resolveTypedefs(t: BtfType): BtfType {
  for (let i = 0; i <= MAX_RESOLVE_DEPTH; i++) {
    if (
      t.kind !== "typedef" &&
      t.kind !== "const" &&
      t.kind !== "volatile" &&
      t.kind !== "restrict" &&
      t.kind !== "type_tag"
    ) {
      return t;
    }
    t = t.target;
  }
  throw loop(t);
}

/** Size of a type in bytes (btf__resolve_size): arrays multiply, typedefs/modifiers/vars follow. */
export function sizeof(t: BtfType, ptrSize = BPF_PTR_SIZE): number {
  let nelems = 1;
  const start = t;
  for (let i = 0; i <= MAX_RESOLVE_DEPTH; i++) {
    switch (t.kind) {
      case "int":
      case "enum":
      case "enum64":
      case "float":
      case "struct":
      case "union":
      case "datasec": {
        const size = nelems * t.size;
        if (size > 0xffffffff) throw typeError(start, `size ${size} does not fit in 32 bits`);
        return size;
      }
      case "ptr":
        return nelems * ptrSize;
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        t = t.target;
        break;
      case "var":
        t = t.type;
        break;
      case "array":
        nelems *= t.length;
        if (nelems > 0xffffffff) throw typeError(start, `array of ${nelems} elements is too large`);
        t = t.element;
        break;
      default:
        throw typeError(t, "has no size");
    }
  }
  throw loop(start);
}

/** Alignment of a type in bytes (btf__align_of); 1 for a struct whose layout shows it is packed. */
export function alignof(t: BtfType, ptrSize = BPF_PTR_SIZE): number {
  for (let i = 0; i <= MAX_RESOLVE_DEPTH; i++) {
    switch (t.kind) {
      case "int":
      case "enum":
      case "enum64":
      case "float":
        return Math.max(1, Math.min(ptrSize, t.size));
      case "ptr":
        return ptrSize;
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        t = t.target;
        break;
      case "array":
        t = t.element;
        break;
      case "struct":
      case "union":
        return compositeAlign(t, ptrSize, 0);
      default:
        throw typeError(t, "has no alignment");
    }
  }
  throw loop(t);
}

const alignCache = new WeakMap<BtfType, number>();

function compositeAlign(t: BtfType & { kind: "struct" | "union" }, ptrSize: number, depth: number): number {
  if (depth > MAX_RESOLVE_DEPTH) throw loop(t);
  const key = ptrSize === BPF_PTR_SIZE ? t : undefined;
  const cached = key && alignCache.get(key);
  if (cached) return cached;
  const align = computeCompositeAlign(t, ptrSize, depth);
  if (key) alignCache.set(key, align);
  return align;
}

function computeCompositeAlign(
  t: BtfType & { kind: "struct" | "union" },
  ptrSize: number,
  depth: number,
): number {
  let max = 1;
  for (const m of t.members) {
    let mt = m.type;
    // members are often structs themselves: recurse with a depth bound
    for (let i = 0; mt.kind !== "struct" && mt.kind !== "union"; i++) {
      if (i > MAX_RESOLVE_DEPTH) throw loop(mt);
      if (mt.kind === "array") mt = mt.element;
      else if (
        mt.kind === "typedef" ||
        mt.kind === "const" ||
        mt.kind === "volatile" ||
        mt.kind === "restrict" ||
        mt.kind === "type_tag"
      )
        mt = mt.target;
      else break;
    }
    const align =
      mt.kind === "struct" || mt.kind === "union"
        ? compositeAlign(mt, ptrSize, depth + 1)
        : alignof(mt, ptrSize);
    max = Math.max(max, align);
    // a field not aligned to its type means the struct is packed
    if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return 1;
  }
  if (t.size % max !== 0) return 1;
  return max;
}

/** True when a struct's layout can only come from `__attribute__((packed))` (libbpf's btf_is_struct_packed). */
export function isPacked(t: BtfType & { kind: "struct" | "union" }, ptrSize = BPF_PTR_SIZE): boolean {
  if (t.kind !== "struct") return false;
  let max = 1;
  for (const m of t.members) {
    const align = alignof(m.type, ptrSize);
    if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
    max = Math.max(max, align);
  }
  return t.size % max !== 0;
}
