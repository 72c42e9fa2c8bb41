/**
 * Type compatibility for CO-RE: when a kernel type can stand for the object's type
 * (libbpf's bpf_core_types_are_compat for type relocations, bpf_core_fields_are_compat for
 * the type of an accessed field). Modifiers and typedefs are skipped on both sides.
 */
import { resolveTypedefs } from "../layout.js";
import { isComposite, type ArrayType, type BtfType, type FuncProto, type Pointer } from "../types.js";
import { essentialName } from "./names.js";
import { CoreSpecError } from "./spec.js";

/** libbpf's recursion bound for type walks. */
const MAX_DEPTH = 32;

const isAnyEnum = (t: BtfType): boolean => t.kind === "enum" || t.kind === "enum64";

/** Same kind, or both enums (enum and enum64 stand for each other). */
export function kindsCompatible(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

/** Integers with a non-zero BTF_INT_OFFSET are deprecated bitfield encodings: never compatible. */
const plainInt = (t: BtfType): boolean => t.kind === "int" && t.bitOffset === 0;

function tooDeep(local: BtfType, target: BtfType): CoreSpecError {
  return new CoreSpecError(
    `type chain deeper than ${MAX_DEPTH} comparing local [${local.id}] with target [${target.id}]`,
  );
}

/**
 * Type relocations (TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET): true when `target` is compatible
 * with `local`. The caller already matched their essential names. Structs, unions, enums and
 * forward declarations match on kind alone; integers unless bitfield-encoded; pointers and
 * arrays through their targets; function prototypes parameter by parameter.
 */
export function typesAreCompatible(local: BtfType, target: BtfType, level = MAX_DEPTH): boolean {
  if (!kindsCompatible(local, target)) return false;
  for (let depth = MAX_DEPTH; ;) {
    if (--depth < 0) throw tooDeep(local, target);
    local = resolveTypedefs(local);
    target = resolveTypedefs(target);
    if (!kindsCompatible(local, target)) return false;
    switch (local.kind) {
      case "void":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "fwd":
        return true;
      case "int":
        return plainInt(local) && plainInt(target);
      case "ptr":
        local = local.target;
        target = (target as Pointer).target;
        continue;
      case "array":
        local = local.element;
        target = (target as ArrayType).element;
        continue;
      case "func_proto": {
        const t = target as FuncProto;
        if (local.params.length !== t.params.length) return false;
        for (let i = 0; i < local.params.length; i++) {
          if (level <= 0) throw tooDeep(local, target);
          if (
            !typesAreCompatible(
              resolveTypedefs(local.params[i]!.type),
              resolveTypedefs(t.params[i]!.type),
              level - 1,
            )
          )
            return false;
        }
        local = local.returnType;
        target = t.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}

/**
 * Field relocations: true when the target field's type can stand for the local field's.
 * Any two structs/unions, any two pointers or floats; enums and forward declarations when
 * their essential names agree (or one is anonymous); integers unless bitfield-encoded;
 * arrays through their element types (dimensions may differ).
 */
export function fieldsAreCompatible(local: BtfType, target: BtfType): boolean {
  for (let depth = MAX_DEPTH; ;) {
    if (--depth < 0) throw tooDeep(local, target);
    local = resolveTypedefs(local);
    target = resolveTypedefs(target);
    if (isComposite(local) && isComposite(target)) return true;
    if (!kindsCompatible(local, target)) return false;
    switch (local.kind) {
      case "ptr":
      case "float":
        return true;
      case "fwd":
      case "enum":
      case "enum64": {
        const a = essentialName(local.name);
        const b = essentialName(target.name);
        return a === "" || b === "" || a === b;
      }
      case "int":
        return plainInt(local) && plainInt(target);
      case "array":
        local = local.element;
        target = (target as ArrayType).element;
        continue;
      default:
        return false;
    }
  }
}
