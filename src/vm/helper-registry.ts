import { TsbpfError } from "../errors.js";
import type { Memory } from "./memory.js";
import type { Interpreter } from "./interpreter.js";

/** Argument register of a helper call. */
export type HelperArg = 1 | 2 | 3 | 4 | 5;

/**
 * What a helper implementation sees of the call: its arguments (r1-r5), the memory, and a few
 * capabilities (stop the program, tail call, call back into the program). One object is reused
 * for every call of a run: do not keep it after returning.
 */
export interface HelperCall {
  /** Helper id being called. */
  readonly id: number;
  /** Slot index of the call instruction. */
  readonly pc: number;
  /** The memory of the run; pointer arguments are addresses in it. */
  readonly memory: Memory;
  /** The `env` value given to `Interpreter.run` (program type state, maps, clock…). */
  readonly env: unknown;
  /** Argument register rN as an unsigned 64-bit value. */
  arg(n: HelperArg): bigint;
  /** Argument register rN as a signed 64-bit value. */
  argSigned(n: HelperArg): bigint;
  /** Low 32 bits of rN, unsigned (no BigInt: the fast path for sizes, flags, ids). */
  argU32(n: HelperArg): number;
  /** High 32 bits of rN, unsigned. */
  argHigh32(n: HelperArg): number;
  /** rN as a JS number: exact when below 2^53 (lengths, ids, addresses of the VM's regions). */
  argNumber(n: HelperArg): number;
  /** Stop the whole program once this helper returns, with r0 = `r0` (uBPF's "unwind"). */
  exit(r0: bigint | number): void;
  /**
   * Continue, once this helper returns, in `target` (a tail call): same r1 (the context), fresh
   * registers and stack frame, the current frame is replaced. Returns false, and does nothing,
   * when the run already made MAX_TAIL_CALLS tail calls (the helper should then return an error).
   */
  tailCall(target: Interpreter): boolean;
  /**
   * Call a function of the running program (a value loaded by `lddw rX, func` — pseudo source 4)
   * with r1-r5 = args, in a new call frame, and return its r0 (bpf_loop, for_each_map_elem…).
   */
  callFunction(fn: bigint, ...args: bigint[]): bigint;
}

/**
 * A helper implementation. Returns r0: a bigint (taken modulo 2^64), an integer number (exact up
 * to 2^53, negative values sign-extended) or nothing (r0 = 0). Errors thrown become a VmFault of
 * kind "helper" naming the call instruction.
 */
export type HelperFunction = (call: HelperCall) => bigint | number | void;

export interface HelperEntry {
  readonly id: number;
  readonly name: string;
  readonly fn: HelperFunction;
}

/** Helper implementations by id, as the interpreter resolves `call imm`. */
export class HelperRegistry {
  private readonly byId = new Map<number, HelperEntry>();

  /** Register (or replace) helper `id`. Returns this for chaining. */
  register(id: number, name: string, fn: HelperFunction): this {
    if (!Number.isInteger(id) || id < -0x80000000 || id > 0x7fffffff)
      throw new TsbpfError(`helper id ${id} is not a 32-bit integer`);
    this.byId.set(id, { id, name, fn });
    return this;
  }

  get(id: number): HelperEntry | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Every registered helper, by increasing id. */
  entries(): HelperEntry[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  /** A registry with the entries of this one and of `other` (other wins on conflicts). */
  merge(other: HelperRegistry): HelperRegistry {
    const r = new HelperRegistry();
    for (const e of [...this.entries(), ...other.entries()]) r.register(e.id, e.name, e.fn);
    return r;
  }
}

/**
 * uBPF's "unwind" extension (helper 5 in the bpf_conformance suite): returns its r1; when r1 is 0
 * the program stops at once with r0 = 0.
 */
export const unwindHelper: HelperFunction = (call) => {
  const v = call.arg(1);
  if (v === 0n) call.exit(0);
  return v;
};

/** Helper id of uBPF's unwind in the bpf_conformance suite. */
export const CONFORMANCE_UNWIND_HELPER_ID = 5;
