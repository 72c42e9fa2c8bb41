/**
 * The access specification of a CO-RE relocation (libbpf's bpf_core_spec): the access string
 * "0:1:2:3" read through the local type into a low-level path (every index, anonymous members
 * included), a high-level path (named members and array indexes only) and a bit offset.
 */
import { TsbpfError } from "../../errors.js";
import type { Btf } from "../Btf.js";
import { CoreReloKind } from "../ext.js";
import { resolveTypedefs, sizeof } from "../layout.js";
import { isComposite, type ArrayType, type BtfType } from "../types.js";

/** libbpf's BPF_CORE_SPEC_MAX_LEN: the deepest access path. */
export const CORE_SPEC_MAX_LEN = 64;

/** One step of the high-level access path. */
export interface CoreAccessor {
  /**
   * A member access: the struct/union holding the member (modifiers and typedefs skipped).
   * An array index, or the first accessor: the element type (modifiers and typedefs skipped).
   * An enumerator: the enum.
   */
  readonly typeId: number;
  /** Member index, array index, or enumerator index. */
  readonly index: number;
  /** Member or enumerator name; undefined for array indexes (the first accessor of a field access is one). */
  readonly name: string | undefined;
}

/** A relocation's access path, resolved in one BTF (the object's, or a candidate's in the target). */
export interface CoreSpec {
  readonly btf: Btf;
  /** The type the access starts from, as given (not skipped through typedefs). */
  readonly rootTypeId: number;
  readonly kind: CoreReloKind;
  /** Low-level path: one index per element of the access string, anonymous members included. */
  readonly raw: readonly number[];
  /** High-level path: named members, array indexes, or the enumerator. */
  readonly accessors: readonly CoreAccessor[];
  /** Bit offset of the accessed field from the start of the root (field relocations). */
  readonly bitOffset: number;
}

/** A spec being built. */
export interface MutableCoreSpec extends CoreSpec {
  raw: number[];
  accessors: CoreAccessor[];
  bitOffset: number;
}

/** A bad access string or local type: the object is malformed. */
export class CoreSpecError extends TsbpfError {
  override name = "CoreSpecError";
}

const FIELD_KINDS: ReadonlySet<CoreReloKind> = new Set([
  CoreReloKind.FieldByteOffset,
  CoreReloKind.FieldByteSize,
  CoreReloKind.FieldExists,
  CoreReloKind.FieldSigned,
  CoreReloKind.FieldLShiftU64,
  CoreReloKind.FieldRShiftU64,
]);
const TYPE_KINDS: ReadonlySet<CoreReloKind> = new Set([
  CoreReloKind.TypeIdLocal,
  CoreReloKind.TypeIdTarget,
  CoreReloKind.TypeExists,
  CoreReloKind.TypeMatches,
  CoreReloKind.TypeSize,
]);

/** Relocations about a field (offset, size, existence, signedness, bitfield shifts). */
export const isFieldKind = (k: CoreReloKind): boolean => FIELD_KINDS.has(k);
/** Relocations about a type (ids, existence, match, size): their access string is "0". */
export const isTypeKind = (k: CoreReloKind): boolean => TYPE_KINDS.has(k);
/** Relocations about an enumerator (existence, value). */
export const isEnumvalKind = (k: CoreReloKind): boolean =>
  k === CoreReloKind.EnumvalExists || k === CoreReloKind.EnumvalValue;

/** Size of a type, or a CoreSpecError naming it. */
export function sizeOfType(t: BtfType): number {
  try {
    return sizeof(t);
  } catch (e) {
    throw new CoreSpecError(`type [${t.id}] has no size: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * libbpf's is_flex_arr: an array of 0 elements that is the last member of the struct reached by
 * the accessor `owner` (the member accessor whose type is the array).
 */
export function isFlexibleArray(btf: Btf, owner: CoreAccessor | undefined, array: ArrayType): boolean {
  if (!owner || owner.name === undefined || array.length > 0) return false;
  const t = btf.typeById(owner.typeId);
  return isComposite(t) && owner.index === t.members.length - 1;
}

/** Splits "0:1:2" into numbers (libbpf's sscanf loop: decimal, optionally signed). */
export function parseAccessString(access: string): number[] {
  if (access === "" || access.startsWith(":")) throw new CoreSpecError(`bad access string '${access}'`);
  const raw: number[] = [];
  for (const part of access.split(":")) {
    if (!/^[+-]?\d+$/.test(part)) throw new CoreSpecError(`bad access string '${access}'`);
    if (raw.length === CORE_SPEC_MAX_LEN)
      throw new CoreSpecError(`access string '${access}' longer than ${CORE_SPEC_MAX_LEN}`);
    raw.push(Number(part));
  }
  return raw;
}

/**
 * Reads a relocation's access string through the local type (libbpf's bpf_core_parse_spec).
 * Throws CoreSpecError when the string does not fit the type.
 */
export function parseCoreSpec(btf: Btf, rootTypeId: number, access: string, kind: CoreReloKind): CoreSpec {
  const spec: MutableCoreSpec = { btf, rootTypeId, kind, raw: [], accessors: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (access !== "0") throw new CoreSpecError(`type relocation with access string '${access}' (want "0")`);
    return spec;
  }
  spec.raw = parseAccessString(access);
  const root = resolveTypedefs(btf.typeById(rootTypeId));
  const first = spec.raw[0]!;
  if (isEnumvalKind(kind)) {
    if ((root.kind !== "enum" && root.kind !== "enum64") || spec.raw.length > 1) {
      throw new CoreSpecError(
        `enumerator relocation '${access}' on type [${rootTypeId}], which is not an enum`,
      );
    }
    const value = root.values[first];
    if (first < 0 || value === undefined) {
      throw new CoreSpecError(`enumerator index ${first} out of range (${root.values.length} values)`);
    }
    spec.accessors.push({ typeId: root.id, index: first, name: value.name });
    return spec;
  }
  if (!isFieldKind(kind)) throw new CoreSpecError(`unknown CO-RE relocation kind ${String(kind)}`);

  spec.accessors.push({ typeId: root.id, index: first, name: undefined });
  spec.bitOffset = first * sizeOfType(root) * 8;
  let t: BtfType = root;
  for (let i = 1; i < spec.raw.length; i++) {
    t = resolveTypedefs(t);
    const index = spec.raw[i]!;
    if (isComposite(t)) {
      const m = t.members[index];
      if (index < 0 || m === undefined) {
        throw new CoreSpecError(
          `member index ${index} of access string '${access}' out of range (${t.members.length} members in [${t.id}])`,
        );
      }
      spec.bitOffset += m.bitOffset;
      if (m.name !== "") spec.accessors.push({ typeId: t.id, index, name: m.name });
      t = m.type;
    } else if (t.kind === "array") {
      const element = resolveTypedefs(t.element);
      const flex = isFlexibleArray(btf, spec.accessors[spec.accessors.length - 1], t);
      if (index < 0 || (!flex && index >= t.length)) {
        throw new CoreSpecError(
          `array index ${index} of access string '${access}' out of range (${t.length} elements in [${t.id}])`,
        );
      }
      spec.accessors.push({ typeId: element.id, index, name: undefined });
      spec.bitOffset += index * sizeOfType(element) * 8;
      t = element;
    } else {
      throw new CoreSpecError(
        `access string '${access}' (at index ${i}) goes through type [${t.id}] of kind ${t.kind}`,
      );
    }
  }
  return spec;
}
