import type { Instruction } from "../instruction.js";
import { lddwValue } from "../instruction.js";
import { AluOp, Class, JumpOp, LDDW, Mode, Size, Source, OP_MASK, SIZE_MASK, MODE_MASK } from "../opcodes.js";
import {
  ALU_OPERATORS,
  ATOMIC_FETCH_NAMES,
  ATOMIC_LOCK_OPERATORS,
  JUMP_OPERATORS,
  SIGNED_ALU_OPERATORS,
  SIGNED_SIZE_TYPES,
  SIZE_TYPES,
  hex,
  memOperand,
  signedHex,
} from "./syntax.js";

/** What llvm-objdump prints for an encoding it cannot decode. */
export const UNKNOWN = "<unknown>";

/**
 * One instruction exactly as `llvm-objdump-19 -d --no-show-raw-insn` prints it (without the
 * ` <sym+0x..>` jump-target comment), or `<unknown>`. `alu32` mirrors `--mcpu=v3` and newer, where
 * 32-bit loads, stores and atomics name `w` registers; by default (objdump's generic CPU) they name
 * `r` registers and 32-bit fetching atomics are not decoded.
 */
export function formatLlvmInstruction(insn: Instruction, alu32 = false): string {
  const cls: Class = insn.code & 0x07;
  return FORMATTERS[cls](insn, alu32) ?? UNKNOWN;
}

type Formatter = (insn: Instruction, alu32: boolean) => string | undefined;

function formatAlu(insn: Instruction): string | undefined {
  const wide = (insn.code & 0x07) === Class.ALU64;
  const r = wide ? "r" : "w";
  const op: AluOp = insn.code & OP_MASK;
  const x = (insn.code & Source.X) !== 0;
  const dst = `${r}${insn.dst}`;
  const src = x ? `${r}${insn.src}` : hex(insn.imm);
  if (op === AluOp.END) {
    if (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) return undefined;
    if (wide) return x ? undefined : `r${insn.dst} = bswap${insn.imm} r${insn.dst}`;
    return `r${insn.dst} = ${x ? "be" : "le"}${insn.imm} r${insn.dst}`;
  }
  if (op === AluOp.NEG) return x ? undefined : `${dst} = -${dst}`;
  if (op === AluOp.MOV && x && insn.off !== 0) {
    if (insn.off === 8 || insn.off === 16 || (insn.off === 32 && wide))
      return `${dst} = (s${insn.off})${src}`;
    if (insn.off === 1 && wide)
      return `${dst} = addr_space_cast(r${insn.src}, ${hex(insn.imm >>> 16)}, ${hex(insn.imm & 0xffff)})`;
    return undefined;
  }
  if (insn.off === 1 && SIGNED_ALU_OPERATORS.has(op)) return `${dst} ${SIGNED_ALU_OPERATORS.get(op)} ${src}`;
  const operator = ALU_OPERATORS.get(op);
  if (operator === undefined || insn.off !== 0) return undefined;
  return `${dst} ${operator} ${src}`;
}

function formatJump(insn: Instruction): string | undefined {
  const jmp32 = (insn.code & 0x07) === Class.JMP32;
  const op: JumpOp = insn.code & OP_MASK;
  const x = (insn.code & Source.X) !== 0;
  switch (op) {
    case JumpOp.JA:
      if (x) return undefined;
      return jmp32 ? `gotol ${signedHex(insn.imm)}` : `goto ${signedHex(insn.off)}`;
    case JumpOp.CALL:
      if (jmp32) return undefined;
      return x ? `callx r${insn.dst}` : `call ${hex(insn.imm)}`;
    case JumpOp.EXIT:
      return jmp32 || x || insn.imm !== 0 ? undefined : "exit";
    case JumpOp.JCOND:
      return jmp32 || x ? undefined : `may_goto ${signedHex(insn.off)}`;
  }
  const cmp = JUMP_OPERATORS.get(op);
  if (cmp === undefined) return undefined;
  const r = jmp32 ? "w" : "r";
  return `if ${r}${insn.dst} ${cmp} ${x ? `${r}${insn.src}` : hex(insn.imm)} goto ${signedHex(insn.off)}`;
}

function formatLd(insn: Instruction): string | undefined {
  if (insn.code === LDDW)
    return insn.src === 0
      ? `r${insn.dst} = ${hex(BigInt.asIntN(64, lddwValue(insn)))} ll`
      : `ld_pseudo\tr${insn.dst}, ${hex(insn.src)}, ${hex(insn.imm)}`;
  const size: Size = insn.code & SIZE_MASK;
  const mode: Mode = insn.code & MODE_MASK;
  if (size === Size.DW) return undefined;
  const type = SIZE_TYPES.get(size)!;
  if (mode === Mode.ABS) return `r0 = *(${type} *)skb[${hex(insn.imm)}]`;
  if (mode === Mode.IND) return `r0 = *(${type} *)skb[r${insn.src}]`;
  return undefined;
}

/** Register name of a load destination / store source: `w` for 32-bit and narrower under alu32. */
const dataReg = (reg: number, size: Size, alu32: boolean) => `${alu32 && size !== Size.DW ? "w" : "r"}${reg}`;

function formatLdx(insn: Instruction, alu32: boolean): string | undefined {
  const size: Size = insn.code & SIZE_MASK;
  const mode: Mode = insn.code & MODE_MASK;
  const mem = memOperand(insn.src, insn.off);
  if (mode === Mode.MEM) return `${dataReg(insn.dst, size, alu32)} = *(${SIZE_TYPES.get(size)} *)(${mem})`;
  if (mode === Mode.MEMSX && size !== Size.DW)
    return `r${insn.dst} = *(${SIGNED_SIZE_TYPES.get(size)} *)(${mem})`;
  return undefined;
}

function formatSt(insn: Instruction): string | undefined {
  if ((insn.code & MODE_MASK) !== Mode.MEM) return undefined;
  const size: Size = insn.code & SIZE_MASK;
  return `*(${SIZE_TYPES.get(size)} *)(${memOperand(insn.dst, insn.off)}) = ${hex(insn.imm)}`;
}

function formatStx(insn: Instruction, alu32: boolean): string | undefined {
  const size: Size = insn.code & SIZE_MASK;
  const mode: Mode = insn.code & MODE_MASK;
  const mem = memOperand(insn.dst, insn.off);
  const type = SIZE_TYPES.get(size)!;
  if (mode === Mode.MEM) return `*(${type} *)(${mem}) = ${dataReg(insn.src, size, alu32)}`;
  if (mode !== Mode.ATOMIC || (size !== Size.DW && size !== Size.W)) return undefined;
  // LLVM 19 decodes atomics from imm bits 7-4 (operation) and bit 0 (fetch) only.
  const op = insn.imm & 0xf0;
  const fetch = (insn.imm & 0x01) !== 0;
  if (size === Size.W && !alu32) return op === 0 ? `lock *(u32 *)(${mem}) += r${insn.src}` : undefined;
  const r = size === Size.DW ? "r" : "w";
  const src = `${r}${insn.src}`;
  if (ATOMIC_LOCK_OPERATORS.has(op))
    return fetch
      ? `${src} = atomic_fetch_${ATOMIC_FETCH_NAMES.get(op | 1)}((${type} *)(${mem}), ${src})`
      : `lock *(${type} *)(${mem}) ${ATOMIC_LOCK_OPERATORS.get(op)} ${src}`;
  const suffix = size === Size.DW ? "_64" : "32_32";
  if (op === 0xe0 && fetch) return `${src} = xchg${suffix}(${mem}, ${src})`;
  if (op === 0xf0 && fetch) return `${r}0 = cmpxchg${suffix}(${mem}, ${r}0, ${src})`;
  return undefined;
}

const FORMATTERS: Readonly<Record<Class, Formatter>> = {
  [Class.LD]: formatLd,
  [Class.LDX]: formatLdx,
  [Class.ST]: formatSt,
  [Class.STX]: formatStx,
  [Class.ALU]: formatAlu,
  [Class.JMP]: formatJump,
  [Class.JMP32]: formatJump,
  [Class.ALU64]: formatAlu,
};
