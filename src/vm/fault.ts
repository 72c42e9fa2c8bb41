import { TsbpfError } from "../errors.js";
import type { Instruction } from "../isa/instruction.js";
import { disassembleInstruction } from "../isa/disasm/conformance.js";

/** Why a running program was stopped. */
export type FaultKind =
  /** a load/store/atomic outside the bounds of its region */
  | "out-of-bounds"
  /** an address that selects no region (null, small integers, freed regions) */
  | "unmapped"
  /** a store or atomic to a read-only region */
  | "read-only"
  /** a write to r10, the read-only frame pointer */
  | "read-only-register"
  /** more instructions executed than the run's budget allows */
  | "budget"
  /** a BPF-to-BPF call deeper than MAX_CALL_FRAMES */
  | "call-depth"
  /** callx to a helper id that is not registered */
  | "bad-helper"
  /** a helper implementation failed (its error is the `cause`) */
  | "helper"
  /** an lddw with a pseudo source (map, BTF id…) that the loader did not resolve */
  | "unresolved-reference"
  /** execution ran past the last instruction */
  | "fell-off-end"
  /** LD_ABS / LD_IND in a run that was given no packet */
  | "no-packet"
  /** an instruction the loader poisoned ran (a CO-RE relocation the target lacks; the cause says which) */
  | "poisoned";

/**
 * A one-line rendering of an instruction for fault messages (`ldxw r0, [r1+600]`): the
 * conformance-dialect disassembly without its `%` register prefixes, or the raw fields.
 */
export function describeInstruction(insn: Instruction): string {
  try {
    return disassembleInstruction(insn).replace(/%r/g, "r");
  } catch {
    const hex = insn.code.toString(16).padStart(2, "0");
    return `opcode 0x${hex} dst=r${insn.dst} src=r${insn.src} off=${insn.off} imm=${insn.imm}`;
  }
}

/** Hex rendering of an unsigned 64-bit address. */
export const hexAddress = (address: bigint): string => `0x${BigInt.asUintN(64, address).toString(16)}`;

/** Describes a region for messages: `"context" (0x100000000..+64)`. */
export interface RegionLike {
  readonly name: string;
  readonly base: bigint;
  readonly length: number;
}
export const describeRegion = (r: RegionLike): string =>
  `region "${r.name}" (${hexAddress(r.base)}..+${r.length})`;

/**
 * A memory access that its region does not allow, raised by `Memory` for accesses made by
 * helpers and by the host. The interpreter turns it into a `VmFault` naming the instruction.
 */
export class MemoryAccessError extends TsbpfError {
  override name = "MemoryAccessError";
  constructor(
    readonly kind: "out-of-bounds" | "unmapped" | "read-only",
    readonly access: "read" | "write",
    readonly address: bigint,
    readonly length: number,
    readonly region: RegionLike | undefined,
  ) {
    super(MemoryAccessError.explain(kind, access, address, length, region));
  }

  /** `read of 4 bytes at 0x100000258 out of bounds of region "context" (0x100000000..+64)` */
  static explain(
    kind: "out-of-bounds" | "unmapped" | "read-only",
    access: "read" | "write",
    address: bigint,
    length: number,
    region: RegionLike | undefined,
  ): string {
    const what = `${access} of ${length} byte${length === 1 ? "" : "s"} at ${hexAddress(address)}`;
    if (kind === "unmapped" || !region)
      return `${what}: ${address < 0x100000000n ? "null pointer (no region below 0x100000000)" : "address not mapped to any region"}`;
    if (kind === "read-only") return `${what} in read-only ${describeRegion(region)}`;
    return `${what} out of bounds of ${describeRegion(region)}`;
  }
}

/**
 * A running program was stopped: names the instruction (pc, in 8-byte slots), what went
 * wrong and, for memory faults, the address and its region.
 */
export class VmFault extends TsbpfError {
  override name = "VmFault";
  constructor(
    readonly kind: FaultKind,
    /** Slot index of the faulting instruction in `program`. */
    readonly pc: number,
    /** The faulting instruction (undefined when pc is past the end). */
    readonly instruction: Instruction | undefined,
    readonly detail: string,
    readonly extra: {
      readonly address?: bigint;
      readonly region?: string;
      /** Name of the program that faulted (after tail calls, not always the first one). */
      readonly program?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(
      // a poisoned instruction is a placeholder (call 0xbad2310): its error names the source instead
      `${extra.program ? `${extra.program}: ` : ""}pc ${pc}${instruction && kind !== "poisoned" ? ` (${describeInstruction(instruction)})` : ""}: ${detail}`,
      extra.cause !== undefined ? { cause: extra.cause } : undefined,
    );
  }
  get address(): bigint | undefined {
    return this.extra.address;
  }
  get region(): string | undefined {
    return this.extra.region;
  }
}

/** A program the interpreter refuses to load: names the instruction index and the reason. */
export class ProgramLoadError extends TsbpfError {
  override name = "ProgramLoadError";
  constructor(
    readonly reason: string,
    /** Slot index of the offending instruction, when there is one. */
    readonly pc: number | undefined,
    readonly program?: string,
  ) {
    super(`${program ? `${program}: ` : ""}${pc !== undefined ? `pc ${pc}: ` : ""}${reason}`);
  }
}
