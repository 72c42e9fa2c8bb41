import { AluOp, AtomicOp, JumpOp, PseudoLd, Size } from "./opcodes.js";

/**
 * Mnemonic fragments shared by the assemblers, disassemblers and the builder: one table per
 * opcode field, each mapping the field value to the name used in assembly text.
 */

/** Two-operand ALU operations (dst op= src/imm). NEG and END have their own spellings. */
export const ALU_BINARY_NAMES: ReadonlyMap<AluOp, string> = new Map([
  [AluOp.ADD, "add"],
  [AluOp.SUB, "sub"],
  [AluOp.MUL, "mul"],
  [AluOp.DIV, "div"],
  [AluOp.OR, "or"],
  [AluOp.AND, "and"],
  [AluOp.LSH, "lsh"],
  [AluOp.RSH, "rsh"],
  [AluOp.MOD, "mod"],
  [AluOp.XOR, "xor"],
  [AluOp.MOV, "mov"],
  [AluOp.ARSH, "arsh"],
]);

/** Signed variants, selected by offset = 1 on DIV and MOD. */
export const ALU_SIGNED_NAMES: ReadonlyMap<AluOp, string> = new Map([
  [AluOp.DIV, "sdiv"],
  [AluOp.MOD, "smod"],
]);

/** Conditional jumps (JMP and JMP32 classes). */
export const JUMP_NAMES: ReadonlyMap<JumpOp, string> = new Map([
  [JumpOp.JEQ, "jeq"],
  [JumpOp.JGT, "jgt"],
  [JumpOp.JGE, "jge"],
  [JumpOp.JSET, "jset"],
  [JumpOp.JNE, "jne"],
  [JumpOp.JSGT, "jsgt"],
  [JumpOp.JSGE, "jsge"],
  [JumpOp.JLT, "jlt"],
  [JumpOp.JLE, "jle"],
  [JumpOp.JSLT, "jslt"],
  [JumpOp.JSLE, "jsle"],
]);

/** Load/store size suffixes: ldxw, stxdw, ldabsb... */
export const SIZE_SUFFIXES: ReadonlyMap<Size, string> = new Map([
  [Size.W, "w"],
  [Size.H, "h"],
  [Size.B, "b"],
  [Size.DW, "dw"],
]);

/** Read-modify-write atomics whose FETCH bit is optional. */
export const ATOMIC_RMW_NAMES: ReadonlyMap<AtomicOp, string> = new Map([
  [AtomicOp.ADD, "add"],
  [AtomicOp.OR, "or"],
  [AtomicOp.AND, "and"],
  [AtomicOp.XOR, "xor"],
]);

/** Atomics that always fetch. */
export const ATOMIC_FETCHING_NAMES: ReadonlyMap<AtomicOp, string> = new Map([
  [AtomicOp.XCHG, "xchg"],
  [AtomicOp.CMPXCHG, "cmpxchg"],
]);

/** Keywords for the source-register forms of lddw (PseudoLd), as in `lddw %r1, map_fd 3`. */
export const PSEUDO_LD_NAMES: ReadonlyMap<PseudoLd, string> = new Map([
  [PseudoLd.MAP_FD, "map_fd"],
  [PseudoLd.MAP_VALUE, "map_value"],
  [PseudoLd.BTF_ID, "btf_id"],
  [PseudoLd.FUNC, "func"],
  [PseudoLd.MAP_IDX, "map_idx"],
  [PseudoLd.MAP_IDX_VALUE, "map_idx_value"],
]);

/** Byte-swap widths accepted by le/be/bswap. */
export const ENDIAN_WIDTHS = [16, 32, 64] as const;

/** Sign-extension source widths of movsx (ALU: 8, 16; ALU64: 8, 16, 32). */
export const MOVSX_WIDTHS = [8, 16, 32] as const;
