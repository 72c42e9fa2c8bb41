/**
 * Filling a program's references with the running kernel's values (libbpf's
 * bpf_object__relocate_data / _extern): map fds into lddw MAP_FD / MAP_VALUE, kfunc BTF ids into
 * calls (module kfuncs through the fd_array), ksyms (typed: BTF id, untyped: kallsyms address).
 * Unresolved __weak externs become what libbpf makes of them: a 0 constant, or a poisoned kfunc
 * call the verifier only rejects if it is reachable.
 */
import type { Instruction } from "../../isa/index.js";
import { Class, JumpOp, PseudoLd, splitImm64 } from "../../isa/index.js";
import { TsbpfError } from "../../errors.js";
import type { ProgramSpec } from "../../object/index.js";
import type { KernelSymbols } from "./kernel-symbols.js";

/** libbpf's POISON_CALL_KFUNC_BASE: a helper id no kernel has, plus the extern's index. */
const POISON_CALL_KFUNC_BASE = 2002000000;
const CALL = Class.JMP | JumpOp.CALL;

/** A program's instructions with every reference filled, and the fds BPF_PROG_LOAD's fd_array needs. */
export interface RelocatedProgram {
  readonly instructions: Instruction[];
  /** fd_array: slot 0 is unused (offset 0 means vmlinux), module BTF fds follow. */
  readonly fdArray: number[];
}

/** Fills the references of `prog`; `mapFd` gives the fd of a map by its index in the spec. */
export function relocateProgram(
  prog: ProgramSpec,
  mapFd: (mapIndex: number, name: string) => number,
  symbols: KernelSymbols,
): RelocatedProgram {
  const insns = prog.instructions.slice();
  const fdArray: number[] = [];
  const slotOf = (module: string | undefined): number => {
    if (module === undefined) return 0;
    const fd = symbols.moduleBtfFd(module);
    if (fdArray.length === 0) fdArray.push(0);
    let i = fdArray.indexOf(fd, 1);
    if (i < 0) i = fdArray.push(fd) - 1;
    return i;
  };
  const fail = (index: number, msg: string): never => {
    throw new TsbpfError(`program '${prog.name}': insn ${index}: ${msg}`);
  };
  let poisoned = 0;
  for (const ref of prog.references) {
    const insn = insns[ref.index]!;
    switch (ref.kind) {
      case "map":
      case "map-value":
        insns[ref.index] = { ...insn, imm: mapFd(ref.mapIndex, ref.map) };
        break;
      case "kfunc": {
        if (insn.code !== CALL) fail(ref.index, `kfunc '${ref.name}' reference on a non-call instruction`);
        const found = symbols.find(ref.name, "func");
        if (found) insns[ref.index] = { ...insn, imm: found.id, off: slotOf(found.module) };
        else if (ref.weak)
          insns[ref.index] = { ...insn, src: 0, off: 0, imm: POISON_CALL_KFUNC_BASE + poisoned++ };
        else
          fail(
            ref.index,
            `kfunc '${ref.name}' is not in the kernel's BTF (declare it __weak and test bpf_ksym_exists() to make it optional)`,
          );
        break;
      }
      case "ksym": {
        if (ref.typed) {
          const found = symbols.find(ref.name, "var");
          if (found) {
            const imm2 = found.module === undefined ? 0 : symbols.moduleBtfFd(found.module);
            insns[ref.index] = { ...insn, src: PseudoLd.BTF_ID, imm: found.id, imm2 };
          } else if (ref.weak) insns[ref.index] = { ...insn, src: PseudoLd.IMM64, imm: 0, imm2: 0 };
          else fail(ref.index, `kernel variable '${ref.name}' is not in the kernel's BTF`);
        } else {
          const addr = symbols.address(ref.name);
          if (addr === undefined && !ref.weak)
            fail(ref.index, `kernel symbol '${ref.name}' is not in /proc/kallsyms`);
          insns[ref.index] = { ...insn, src: PseudoLd.IMM64, ...splitImm64(addr ?? 0n) };
        }
        break;
      }
      case "func":
        break; // linked by the object loader
    }
  }
  return { instructions: insns, fdArray };
}
