import { AluOp, AtomicOp, JumpOp, Size } from "../opcodes.js";

/**
 * Operator spellings shared by the LLVM syntax (llvm-objdump, clang -S) and the kernel's
 * verifier log: both write eBPF as C-like assignments (`r0 += r1`, `if r1 > r2 goto +1`).
 */

/** Compound assignment of each ALU operation; signed variants use off = 1. */
export const ALU_OPERATORS: ReadonlyMap<AluOp, string> = new Map([
  [AluOp.ADD, "+="],
  [AluOp.SUB, "-="],
  [AluOp.MUL, "*="],
  [AluOp.DIV, "/="],
  [AluOp.OR, "|="],
  [AluOp.AND, "&="],
  [AluOp.LSH, "<<="],
  [AluOp.RSH, ">>="],
  [AluOp.MOD, "%="],
  [AluOp.XOR, "^="],
  [AluOp.MOV, "="],
  [AluOp.ARSH, "s>>="],
]);

/** sdiv / smod (off = 1). */
export const SIGNED_ALU_OPERATORS: ReadonlyMap<AluOp, string> = new Map([
  [AluOp.DIV, "s/="],
  [AluOp.MOD, "s%="],
]);

/** Comparison of each conditional jump. */
export const JUMP_OPERATORS: ReadonlyMap<JumpOp, string> = new Map([
  [JumpOp.JEQ, "=="],
  [JumpOp.JGT, ">"],
  [JumpOp.JGE, ">="],
  [JumpOp.JSET, "&"],
  [JumpOp.JNE, "!="],
  [JumpOp.JSGT, "s>"],
  [JumpOp.JSGE, "s>="],
  [JumpOp.JLT, "<"],
  [JumpOp.JLE, "<="],
  [JumpOp.JSLT, "s<"],
  [JumpOp.JSLE, "s<="],
]);

/** Unsigned C type of each access size. */
export const SIZE_TYPES: ReadonlyMap<Size, string> = new Map([
  [Size.B, "u8"],
  [Size.H, "u16"],
  [Size.W, "u32"],
  [Size.DW, "u64"],
]);

/** Signed C type of each sign-extending load size. */
export const SIGNED_SIZE_TYPES: ReadonlyMap<Size, string> = new Map([
  [Size.B, "s8"],
  [Size.H, "s16"],
  [Size.W, "s32"],
]);

/** Atomic read-modify-write operations without fetch, written `lock *(u64 *)(r1 + 0x0) += r2`. */
export const ATOMIC_LOCK_OPERATORS: ReadonlyMap<number, string> = new Map([
  [AtomicOp.ADD, "+="],
  [AtomicOp.OR, "|="],
  [AtomicOp.AND, "&="],
  [AtomicOp.XOR, "^="],
]);

/** Fetching atomics, written `r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)`. */
export const ATOMIC_FETCH_NAMES: ReadonlyMap<number, string> = new Map([
  [AtomicOp.ADD | AtomicOp.FETCH, "add"],
  [AtomicOp.OR | AtomicOp.FETCH, "or"],
  [AtomicOp.AND | AtomicOp.FETCH, "and"],
  [AtomicOp.XOR | AtomicOp.FETCH, "xor"],
]);

/** Inverse lookup of a small table. */
export function keyOf<K, V>(table: ReadonlyMap<K, V>, value: V): K | undefined {
  for (const [k, v] of table) if (v === value) return k;
  return undefined;
}

/** A signed number the way LLVM prints immediates: `0x2a`, `-0x1`. */
export function hex(n: number | bigint): string {
  return n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
}

/** A jump displacement: `+0x3`, `-0x1`, `+0x0`. */
export const signedHex = (n: number): string => (n < 0 ? hex(n) : `+${hex(n)}`);

/** A memory operand `r1 + 0x10` / `r10 - 0x8`. */
export const memOperand = (reg: number, off: number): string =>
  `r${reg} ${off < 0 ? "-" : "+"} ${hex(Math.abs(off))}`;
