/**
 * TYPE_MATCHES (bpf_core_type_matches): a stricter relation than compatibility, libbpf's
 * bpf_core_types_match. Names must agree at every level (modulo flavors), kinds must be the
 * same (a struct/union behind a pointer may match a forward declaration; enum matches enum64),
 * integers agree in size and signedness, arrays in length, every local member and enumerator
 * exists in the target by name, function prototypes argument by argument.
 */
import { resolveTypedefs } from "../layout.js";
import type { BtfType, Composite, Enum, Enum64 } from "../types.js";
import { essentialName } from "./names.js";
import { CoreSpecError } from "./spec.js";

const MAX_LEVEL = 32;

/** libbpf's bpf_core_names_match: an anonymous target matches only an anonymous local. */
function namesMatch(local: string, target: string): boolean {
  if (target === "") return local === "";
  return essentialName(local) === essentialName(target);
}

function enumsMatch(local: Enum | Enum64, target: Enum | Enum64): boolean {
  if (local.size !== target.size || local.values.length > target.values.length) return false;
  return local.values.every((lv) => target.values.some((tv) => namesMatch(lv.name, tv.name)));
}

function compositesMatch(
  local: Composite,
  target: Composite,
  behindPointer: boolean,
  level: number,
): boolean {
  if (local.members.length > target.members.length) return false;
  return local.members.every((lm) =>
    target.members.some(
      (tm) => namesMatch(lm.name, tm.name) && typesMatch(lm.type, tm.type, behindPointer, level - 1),
    ),
  );
}

/** True when `target` matches `local` (the root names were already compared by the caller). */
export function typesMatch(
  local: BtfType,
  target: BtfType,
  behindPointer = false,
  level = MAX_LEVEL,
): boolean {
  if (level <= 0)
    throw new CoreSpecError(`types nested deeper than ${MAX_LEVEL} levels (local [${local.id}])`);
  for (let depth = MAX_LEVEL; ;) {
    if (--depth < 0) throw new CoreSpecError(`type chain deeper than ${MAX_LEVEL} (local [${local.id}])`);
    local = resolveTypedefs(local);
    target = resolveTypedefs(target);
    if (!namesMatch(local.name, target.name)) return false;
    switch (local.kind) {
      case "void":
        return target.kind === "void";
      case "fwd":
        if (behindPointer && target.kind !== "fwd") {
          return (target.kind === "struct" && !local.kindFlag) || (target.kind === "union" && local.kindFlag);
        }
        return target.kind === "fwd" && local.kindFlag === target.kindFlag;
      case "enum":
      case "enum64":
        return (target.kind === "enum" || target.kind === "enum64") && enumsMatch(local, target);
      case "struct":
      case "union":
        if (behindPointer) {
          if (target.kind === local.kind) return true;
          return target.kind === "fwd" && (local.kind === "union") === target.kindFlag;
        }
        return target.kind === local.kind && compositesMatch(local, target, behindPointer, level);
      case "int":
        return target.kind === "int" && local.size === target.size && local.signed === target.signed;
      case "ptr":
        if (target.kind !== "ptr") return false;
        behindPointer = true;
        local = local.target;
        target = target.target;
        continue;
      case "array":
        if (target.kind !== "array" || local.length !== target.length) return false;
        local = local.element;
        target = target.element;
        continue;
      case "func_proto": {
        if (target.kind !== "func_proto" || local.params.length !== target.params.length) return false;
        for (let i = 0; i < local.params.length; i++) {
          if (!typesMatch(local.params[i]!.type, target.params[i]!.type, behindPointer, level - 1))
            return false;
        }
        local = local.returnType;
        target = target.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
