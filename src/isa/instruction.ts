import { LDDW } from "./opcodes.js";

/**
 * One eBPF instruction as a plain value. The 16-byte lddw is one Instruction whose `imm2`
 * holds the immediate of its second 8-byte slot; every other instruction is one slot.
 *
 * Wire layout of a slot (little endian):
 *   byte 0: opcode   byte 1: dst (low nibble) | src (high nibble)   bytes 2-3: off (s16)   bytes 4-7: imm (s32)
 */
export interface Instruction {
  /** The opcode byte (see opcodes.ts for its fields). */
  readonly code: number;
  /** Destination register field, 0-15 (valid programs use 0-10). */
  readonly dst: number;
  /** Source register field, 0-15; for lddw and calls a pseudo source. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** lddw only: signed 32-bit immediate of the second slot (the high half of the constant). */
  readonly imm2?: number;
}

/** Number of 8-byte slots an instruction occupies. */
export const slotsOf = (insn: Instruction): 1 | 2 => (insn.code === LDDW ? 2 : 1);

/** The 64-bit constant of an lddw, unsigned. */
export function lddwValue(insn: Instruction): bigint {
  return (BigInt((insn.imm2 ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

/** Build the imm/imm2 pair of an lddw from a 64-bit constant (taken modulo 2^64). */
export function splitImm64(value: bigint): { imm: number; imm2: number } {
  const v = BigInt.asUintN(64, value);
  return { imm: Number(BigInt.asIntN(32, v & 0xffffffffn)), imm2: Number(BigInt.asIntN(32, v >> 32n)) };
}

/** Total byte length of a program. */
export const byteLength = (program: readonly Instruction[]): number =>
  program.reduce((n, insn) => n + 8 * slotsOf(insn), 0);

/** Slot index (in 8-byte units) of every instruction, plus the total at the end. */
export function slotIndexes(program: readonly Instruction[]): number[] {
  const out = new Array<number>(program.length + 1);
  let slot = 0;
  for (let i = 0; i < program.length; i++) {
    out[i] = slot;
    slot += slotsOf(program[i]!);
  }
  out[program.length] = slot;
  return out;
}
