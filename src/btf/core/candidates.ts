/**
 * Candidate target types of a CO-RE relocation: every type of the target BTF whose essential
 * name equals the local type's and whose kind is compatible (libbpf's bpf_core_add_cands).
 * The kernel's own types come first; module BTF is searched only when the kernel has none.
 */
import type { Btf } from "../Btf.js";
import type { BtfType } from "../types.js";
import { kindsCompatible } from "./compat.js";
import { essentialName } from "./names.js";

/** A type of a target BTF. */
export interface CoreCandidate {
  readonly btf: Btf;
  readonly type: BtfType;
}

/** Per target BTF: essential name -> ids of its own types whose names carry a `___flavor`. */
const flavoredIndex = new WeakMap<Btf, Map<string, number[]>>();

/** Ids of a BTF's own types with a flavored name, by essential name (one scan, cached). */
function flavoredIds(btf: Btf, name: string): readonly number[] {
  let index = flavoredIndex.get(btf);
  if (!index) {
    index = new Map();
    for (let id = btf.firstId; id < btf.count; id++) {
      const off = btf.offsetOf(id);
      if (off === undefined) continue;
      const full = btf.string(btf.readU32(off));
      if (!full.includes("___")) continue;
      const ess = essentialName(full);
      if (ess === full) continue;
      const ids = index.get(ess);
      if (ids) ids.push(id);
      else index.set(ess, [id]);
    }
    flavoredIndex.set(btf, index);
  }
  return index.get(name) ?? [];
}

/** Ids of the types (own and, for split BTF, the base's) whose essential name is `name`. */
function idsByEssentialName(btf: Btf, name: string): number[] {
  const ids = new Set<number>(btf.idsByName(name));
  for (let b: Btf | undefined = btf; b; b = b.base) for (const id of flavoredIds(b, name)) ids.add(id);
  return [...ids].sort((a, b) => a - b);
}

/** Candidates for `local` in one target BTF, in id order. */
export function candidatesIn(local: BtfType, target: Btf): CoreCandidate[] {
  const name = essentialName(local.name);
  if (name === "") return [];
  const out: CoreCandidate[] = [];
  for (const id of idsByEssentialName(target, name)) {
    const type = target.typeById(id);
    if (kindsCompatible(type, local)) out.push({ btf: target, type });
  }
  return out;
}

/**
 * Candidates for `local`: those of `target` (the kernel), or when it has none, those of the
 * module BTFs (each split on top of the kernel's), like libbpf.
 */
export function findCandidates(local: BtfType, target: Btf, modules: readonly Btf[] = []): CoreCandidate[] {
  const own = candidatesIn(local, target);
  if (own.length > 0 || modules.length === 0) return own;
  const out: CoreCandidate[] = [];
  for (const m of modules) {
    // a module's split BTF also sees the base's types: keep only the module's own
    for (const c of candidatesIn(local, m)) if (c.type.id >= m.firstId) out.push(c);
  }
  return out;
}
