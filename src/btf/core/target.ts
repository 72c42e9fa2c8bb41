/**
 * Matching a local access spec against one candidate target type (libbpf's
 * bpf_core_spec_match): every named member must exist in the target (searched through
 * anonymous structs and unions) with a compatible type, every array index must be in bounds.
 * The result is the target's own spec, with its low-level path and bit offset.
 */
import type { Btf } from "../Btf.js";
import { resolveTypedefs } from "../layout.js";
import { isComposite, type BtfType } from "../types.js";
import { CoreReloKind } from "../ext.js";
import { fieldsAreCompatible, typesAreCompatible } from "./compat.js";
import { describeType } from "./format.js";
import { typesMatch } from "./match.js";
import { essentialName } from "./names.js";
import {
  CORE_SPEC_MAX_LEN,
  CoreSpecError,
  isEnumvalKind,
  isFieldKind,
  isFlexibleArray,
  sizeOfType,
  type CoreSpec,
  type MutableCoreSpec,
} from "./spec.js";

/** A candidate that matched, or why it did not (for messages: "no field 'state' in struct task_struct"). */
export type SpecMatch =
  { readonly ok: true; readonly spec: CoreSpec } | { readonly ok: false; readonly reason: string };

const miss = (reason: string): SpecMatch => ({ ok: false, reason });

/**
 * Finds the member named like the local accessor's in `targetType`, descending into anonymous
 * members; on success pushes its indexes and offsets to `spec` and returns the member's type.
 * Returns a reason string when there is no such member or its type is incompatible.
 */
function matchMember(
  localMemberName: string,
  localMemberType: BtfType,
  targetType: BtfType,
  spec: MutableCoreSpec,
): BtfType | string {
  const t = resolveTypedefs(targetType);
  if (!isComposite(t)) return `${describeType(t)} is not a struct or union`;
  let incompatible: string | undefined;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (spec.raw.length === CORE_SPEC_MAX_LEN)
      throw new CoreSpecError(`target access path longer than ${CORE_SPEC_MAX_LEN}`);
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === "") {
      const inner = matchMember(localMemberName, localMemberType, m.type, spec);
      if (typeof inner !== "string") return inner;
      // not in this anonymous member (or not compatible there): keep searching, like libbpf
      if (!inner.startsWith("no field")) incompatible = inner;
    } else if (m.name === localMemberName) {
      if (!fieldsAreCompatible(localMemberType, m.type)) {
        spec.bitOffset -= m.bitOffset;
        spec.raw.pop();
        return `field '${m.name}' of ${describeType(t)} has type ${describeType(resolveTypedefs(m.type))}, incompatible with local ${describeType(resolveTypedefs(localMemberType))}`;
      }
      spec.accessors.push({ typeId: t.id, index: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return incompatible ?? `no field '${localMemberName}' in ${describeType(t)}`;
}

/** Matches `local` against the candidate `targetId` of `targetBtf`. */
export function matchSpec(local: CoreSpec, targetBtf: Btf, targetId: number): SpecMatch {
  const spec: MutableCoreSpec = {
    btf: targetBtf,
    rootTypeId: targetId,
    kind: local.kind,
    raw: [],
    accessors: [],
    bitOffset: 0,
  };
  const localRoot = local.btf.typeById(local.rootTypeId);
  const targetRoot = targetBtf.typeById(targetId);

  if (!isFieldKind(local.kind) && !isEnumvalKind(local.kind)) {
    const ok =
      local.kind === CoreReloKind.TypeMatches
        ? typesMatch(localRoot, targetRoot)
        : typesAreCompatible(localRoot, targetRoot);
    if (ok) return { ok, spec };
    const verb = local.kind === CoreReloKind.TypeMatches ? "does not match" : "is incompatible with";
    return miss(
      `${describeType(targetRoot)} ${verb} local ${describeType(localRoot)}${mismatchDetail(local.kind, localRoot, targetRoot)}`,
    );
  }

  const first = local.accessors[0]!;
  if (isEnumvalKind(local.kind)) {
    const t = resolveTypedefs(targetRoot);
    if (t.kind !== "enum" && t.kind !== "enum64") return miss(`${describeType(t)} is not an enum`);
    const want = essentialName(first.name!);
    const index = t.values.findIndex((v) => essentialName(v.name) === want);
    if (index < 0) return miss(`no enumerator '${want}' in ${describeType(t)}`);
    spec.accessors.push({ typeId: t.id, index, name: t.values[index]!.name });
    spec.raw.push(index);
    return { ok: true, spec };
  }

  let targetType: BtfType = targetRoot;
  for (let i = 0; i < local.accessors.length; i++) {
    const acc = local.accessors[i]!;
    targetType = resolveTypedefs(targetType);
    if (acc.name !== undefined) {
      const owner = local.btf.typeById(acc.typeId);
      if (!isComposite(owner))
        throw new CoreSpecError(`accessor type [${acc.typeId}] is not a struct or union`);
      const member = owner.members[acc.index]!;
      const next = matchMember(acc.name, member.type, targetType, spec);
      if (typeof next === "string") return miss(next);
      targetType = next;
      continue;
    }
    if (i > 0) {
      if (targetType.kind !== "array") return miss(`${describeType(targetType)} is not an array`);
      const flex = isFlexibleArray(targetBtf, spec.accessors[spec.accessors.length - 1], targetType);
      if (!flex && acc.index >= targetType.length) {
        return miss(
          `index ${acc.index} out of bounds of ${describeType(targetType)} (${targetType.length} elements)`,
        );
      }
      targetType = resolveTypedefs(targetType.element);
    }
    if (spec.raw.length === CORE_SPEC_MAX_LEN)
      throw new CoreSpecError(`target access path longer than ${CORE_SPEC_MAX_LEN}`);
    spec.accessors.push({ typeId: targetType.id, index: acc.index, name: undefined });
    spec.raw.push(acc.index);
    spec.bitOffset += acc.index * sizeOfType(targetType) * 8;
  }
  return { ok: true, spec };
}

/** For TYPE_MATCHES of two structs or unions: the innermost local member without a match. */
function mismatchDetail(kind: CoreReloKind, local: BtfType, target: BtfType): string {
  if (kind !== CoreReloKind.TypeMatches) return "";
  const found = firstMismatch(local, target, "", 0);
  return found ? `: ${found}` : "";
}

function firstMismatch(local: BtfType, target: BtfType, path: string, depth: number): string | undefined {
  const l = resolveTypedefs(local);
  const t = resolveTypedefs(target);
  if (depth > 8 || !isComposite(l) || !isComposite(t) || l.kind !== t.kind) return undefined;
  for (const lm of l.members) {
    const name = `${path}${lm.name || "<anon>"}`;
    const same = t.members.filter((tm) => essentialName(tm.name) === essentialName(lm.name));
    if (same.length === 0) return `no member '${name}'`;
    if (same.some((tm) => typesMatch(lm.type, tm.type, false, 31))) continue;
    const inner = firstMismatch(lm.type, same[0]!.type, `${name}.`, depth + 1);
    return inner ?? `member '${name}' is ${describeType(same[0]!.type)}, locally ${describeType(lm.type)}`;
  }
  return undefined;
}
