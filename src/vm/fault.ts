import { TsbpfError } from "../errors.js";
import type { Instruction } from "../isa/instruction.js";
import { lddwValue } from "../isa/instruction.js";
import { AtomicOp, Class, LDDW, Mode, Size } from "../isa/opcodes.js";

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
  | "no-packet";

/** Mnemonic of a load/store size. */
const SIZE_SUFFIX: Record<number, string> = { [Size.B]: "b", [Size.H]: "h", [Size.W]: "w", [Size.DW]: "dw" };

const ATOMIC_NAMES: Record<number, string> = {
  [AtomicOp.ADD]: "add",
  [AtomicOp.OR]: "or",
  [AtomicOp.AND]: "and",
  [AtomicOp.XOR]: "xor",
  [AtomicOp.ADD | AtomicOp.FETCH]: "fetch_add",
  [AtomicOp.OR | AtomicOp.FETCH]: "fetch_or",
  [AtomicOp.AND | AtomicOp.FETCH]: "fetch_and",
  [AtomicOp.XOR | AtomicOp.FETCH]: "fetch_xor",
  [AtomicOp.XCHG]: "xchg",
  [AtomicOp.CMPXCHG]: "cmpxchg",
  [AtomicOp.LOAD_ACQ]: "load_acquire",
  [AtomicOp.STORE_REL]: "store_release",
};

const memOperand = (reg: number, off: number): string => `[r${reg}${off < 0 ? "-" : "+"}${Math.abs(off)}]`;

/**
 * A plain one-line rendering of an instruction for fault messages: memory instructions in the
 * usual `ldxw r0, [r1+8]` form, the others as their opcode and fields.
 */
export function describeInstruction(insn: Instruction): string {
  const cls = insn.code & 0x07;
  const mode = insn.code & 0xe0;
  const size = SIZE_SUFFIX[insn.code & 0x18] ?? "?";
  if (insn.code === LDDW) {
    const pseudo = insn.src !== 0 ? ` (pseudo src ${insn.src})` : "";
    return `lddw r${insn.dst}, 0x${lddwValue(insn).toString(16)}${pseudo}`;
  }
  if (cls === Class.LDX && (mode === Mode.MEM || mode === Mode.MEMSX))
    return `ldx${mode === Mode.MEMSX ? "s" : ""}${size} r${insn.dst}, ${memOperand(insn.src, insn.off)}`;
  if (cls === Class.ST && mode === Mode.MEM)
    return `st${size} ${memOperand(insn.dst, insn.off)}, ${insn.imm}`;
  if (cls === Class.STX && mode === Mode.MEM)
    return `stx${size} ${memOperand(insn.dst, insn.off)}, r${insn.src}`;
  if (cls === Class.STX && mode === Mode.ATOMIC) {
    const op = ATOMIC_NAMES[insn.imm] ?? `atomic(0x${insn.imm.toString(16)})`;
    if (insn.imm === AtomicOp.LOAD_ACQ) return `${op}${size} r${insn.dst}, ${memOperand(insn.src, insn.off)}`;
    return `lock ${op}${size === "w" ? "32" : ""} ${memOperand(insn.dst, insn.off)}, r${insn.src}`;
  }
  if (cls === Class.LD && (mode === Mode.ABS || mode === Mode.IND))
    return mode === Mode.ABS ? `ldabs${size} ${insn.imm}` : `ldind${size} r${insn.src}, ${insn.imm}`;
  const hex = insn.code.toString(16).padStart(2, "0");
  return `opcode 0x${hex} dst=r${insn.dst} src=r${insn.src} off=${insn.off} imm=${insn.imm}`;
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
      return `${what}: ${address === 0n ? "null pointer" : "address not mapped to any region"}`;
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
      `${extra.program ? `${extra.program}: ` : ""}pc ${pc}${instruction ? ` (${describeInstruction(instruction)})` : ""}: ${detail}`,
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
