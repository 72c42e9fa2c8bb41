/**
 * The value a relocated instruction needs, computed from a spec (libbpf's bpf_core_calc_relo):
 * once from the local spec (what clang wrote, to check the instruction) and once from the
 * target spec (the value to patch in). A missing target spec means the field, type or
 * enumerator does not exist in the target.
 */
import { CoreReloKind } from "../ext.js";
import { resolveTypedefs } from "../layout.js";
import { isComposite } from "../types.js";
import { CoreSpecError, isEnumvalKind, isFieldKind, sizeOfType, type CoreSpec } from "./spec.js";

/** The outcome of one relocation, before patching. */
export interface CoreReloValue {
  /** The value clang compiled in (from the local spec). */
  readonly localValue: bigint;
  /** The value for the target. */
  readonly targetValue: bigint;
  /** The target lacks what the instruction needs: it must be poisoned. */
  readonly poison: boolean;
  /** Whether the instruction must hold `localValue` before patching. */
  readonly validate: boolean;
  /** Byte size of a non-bitfield field accessed by a load/store (0 when not applicable). */
  readonly localSize: number;
  readonly targetSize: number;
  /** A load/store of this field cannot be resized safely (signed integer or other type change). */
  readonly failMemSizeAdjust: boolean;
}

interface FieldValue {
  value: bigint;
  fieldSize: number;
  typeId: number;
  validate: boolean;
}

/** bpf_core_calc_field_relo; undefined means "poison" (no spec for a kind that needs one). */
function fieldValue(kind: CoreReloKind, spec: CoreSpec | undefined): FieldValue | undefined {
  if (kind === CoreReloKind.FieldExists)
    return { value: spec ? 1n : 0n, fieldSize: 0, typeId: 0, validate: true };
  if (!spec) return undefined;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  const btf = spec.btf;

  if (acc.name === undefined) {
    // the access ends with an array element (or the root itself)
    const elem = btf.typeById(acc.typeId);
    const size = sizeOfType(elem);
    if (kind === CoreReloKind.FieldByteOffset)
      return { value: BigInt(spec.bitOffset / 8), fieldSize: size, typeId: acc.typeId, validate: true };
    if (kind === CoreReloKind.FieldByteSize)
      return { value: BigInt(size), fieldSize: 0, typeId: 0, validate: true };
    throw new CoreSpecError(`relocation ${CoreReloKind[kind]} cannot be applied to an array element`);
  }

  const owner = btf.typeById(acc.typeId);
  if (!isComposite(owner)) throw new CoreSpecError(`accessor type [${acc.typeId}] is not a struct or union`);
  const m = owner.members[acc.index]!;
  const mt = resolveTypedefs(m.type);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    byteSize = sizeOfType(mt);
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    // the smallest power-of-two load that holds the whole bitfield
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new CoreSpecError(`bitfield '${m.name}' cannot be read with a 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOfType(mt);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  // bitfield offsets and sizes depend on choices clang may make differently: don't check them
  let validate = !bitfield;
  let value: bigint;
  let fieldSize = 0;
  let typeId = 0;
  switch (kind) {
    case CoreReloKind.FieldByteOffset:
      value = BigInt(byteOff);
      if (!bitfield) {
        fieldSize = byteSize;
        typeId = mt.id;
      }
      break;
    case CoreReloKind.FieldByteSize:
      value = BigInt(byteSize);
      break;
    case CoreReloKind.FieldSigned:
      value =
        ((mt.kind === "enum" || mt.kind === "enum64") && mt.kindFlag) || (mt.kind === "int" && mt.signed)
          ? 1n
          : 0n;
      validate = true;
      break;
    case CoreReloKind.FieldLShiftU64:
      // little-endian BPF target
      value = BigInt(64 - (bitOff + bitSize - byteOff * 8));
      break;
    case CoreReloKind.FieldRShiftU64:
      value = BigInt(64 - bitSize);
      validate = true;
      break;
    default:
      throw new CoreSpecError(`unexpected field relocation kind ${String(kind)}`);
  }
  return { value, fieldSize, typeId, validate };
}

/** Type relocations: 0 when the target has no such type. */
function typeValue(kind: CoreReloKind, spec: CoreSpec | undefined): bigint {
  if (!spec) return 0n;
  switch (kind) {
    case CoreReloKind.TypeIdTarget:
      return BigInt(spec.rootTypeId);
    case CoreReloKind.TypeExists:
    case CoreReloKind.TypeMatches:
      return 1n;
    case CoreReloKind.TypeSize:
      return BigInt(sizeOfType(spec.btf.typeById(spec.rootTypeId)));
    default:
      throw new CoreSpecError(`unexpected type relocation kind ${String(kind)}`);
  }
}

/** Enumerator relocations; undefined means "poison" (the value of a missing enumerator). */
function enumValue(kind: CoreReloKind, spec: CoreSpec | undefined): bigint | undefined {
  if (kind === CoreReloKind.EnumvalExists) return spec ? 1n : 0n;
  if (!spec) return undefined;
  const acc = spec.accessors[0]!;
  const t = spec.btf.typeById(acc.typeId);
  if (t.kind !== "enum" && t.kind !== "enum64") throw new CoreSpecError(`[${acc.typeId}] is not an enum`);
  // libbpf widens to u64: signed 32-bit values sign-extend
  return BigInt.asUintN(64, BigInt(t.values[acc.index]!.value));
}

/** Computes local and target values of a relocation (bpf_core_calc_relo). */
export function calcRelocation(local: CoreSpec, target: CoreSpec | undefined): CoreReloValue {
  const kind = local.kind;
  const base = { poison: false, validate: true, localSize: 0, targetSize: 0, failMemSizeAdjust: false };
  if (isFieldKind(kind)) {
    const l = fieldValue(kind, local);
    if (!l) throw new CoreSpecError("local field spec missing");
    const t = fieldValue(kind, target);
    if (!t) return { ...base, localValue: l.value, targetValue: 0n, poison: true, validate: l.validate };
    let failMemSizeAdjust = false;
    if (l.fieldSize !== t.fieldSize) {
      const lt = local.btf.typeById(l.typeId);
      const tt = target!.btf.typeById(t.typeId);
      // only pointers (a 32-bit kernel pointer) and unsigned integers survive zero-extension
      const ok =
        (lt.kind === "ptr" && tt.kind === "ptr") ||
        (lt.kind === "int" && tt.kind === "int" && lt.encoding !== 1 && tt.encoding !== 1);
      failMemSizeAdjust = !ok;
    }
    return {
      localValue: l.value,
      targetValue: t.value,
      poison: false,
      validate: l.validate,
      localSize: l.fieldSize,
      targetSize: t.fieldSize,
      failMemSizeAdjust,
    };
  }
  if (isEnumvalKind(kind)) {
    const l = enumValue(kind, local)!;
    const t = enumValue(kind, target);
    return t === undefined
      ? { ...base, localValue: l, targetValue: 0n, poison: true }
      : { ...base, localValue: l, targetValue: t };
  }
  if (kind === CoreReloKind.TypeIdLocal) {
    const id = BigInt(local.rootTypeId);
    return { ...base, localValue: id, targetValue: id, validate: false };
  }
  return {
    ...base,
    localValue: typeValue(kind, local),
    targetValue: typeValue(kind, target),
    // type ids change when objects are linked: don't check them
    validate: kind !== CoreReloKind.TypeIdTarget,
  };
}
