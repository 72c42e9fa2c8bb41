/**
 * CO-RE for the kernel backend: a program's relocations resolved against the running kernel's
 * BTF (or the BTF file given as kernelBtfPath) with the btf/core resolver, as libbpf does at
 * bpf_object__load. Unresolvable relocations are poisoned (they fail only if reached) or raise
 * CoreRelocationError naming the program, source line and access.
 */
import { resolveCoreRelocations } from "../../btf/index.js";
import type { Instruction } from "../../isa/index.js";
import type { ObjectSpec, ProgramSpec } from "../../object/index.js";
import type { KernelSymbols } from "./kernel-symbols.js";

export interface CoreOutcome {
  readonly instructions: readonly Instruction[];
  /** One line per relocation that did not simply keep its compiled value (for the debug log). */
  readonly notes: readonly string[];
}

/** Applies the CO-RE relocations of `prog` (a no-op without any). */
export function applyCoreRelocations(
  spec: ObjectSpec,
  prog: ProgramSpec,
  symbols: KernelSymbols,
): CoreOutcome {
  if (prog.coreRelos.length === 0 || !spec.btf) return { instructions: prog.instructions, notes: [] };
  const resolved = resolveCoreRelocations({
    localBtf: spec.btf,
    targetBtf: symbols.vmlinux,
    relos: prog.coreRelos,
    instructions: prog.instructions,
    programName: prog.name,
    lineInfo: prog.lineInfo,
  });
  const notes = resolved.results
    .filter((r) => r.value !== r.localValue || r.poisoned)
    .map(
      (r) =>
        `#${r.relocation} <${r.kindName}> insn ${r.slot} ${r.access}: ${r.localValue} -> ${r.poisoned ? "poisoned" : r.value}${r.missing ? ` (${r.missing})` : ""}`,
    );
  return { instructions: resolved.instructions, notes };
}
