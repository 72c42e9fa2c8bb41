/**
 * Disassembler to the BPF conformance-suite dialect (the inverse of assembleConformance):
 * assembling its output gives back the same bytes for every valid program.
 *
 * Immediates print as upstream does: negative values and -10..10 in decimal, others in hex.
 */
import { TsbpfError } from "../../errors.js";
import type { Instruction } from "../instruction.js";
import { lddwValue, slotIndexes } from "../instruction.js";
import {
  ALU_BINARY_NAMES,
  ALU_SIGNED_NAMES,
  ATOMIC_FETCHING_NAMES,
  ATOMIC_RMW_NAMES,
  JUMP_NAMES,
  PSEUDO_LD_NAMES,
  SIZE_SUFFIXES,
} from "../names.js";
import {
  AluOp,
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  PseudoLd,
  Size,
  Source,
  classOf,
  MODE_MASK,
  OP_MASK,
  SIZE_MASK,
  SOURCE_MASK,
} from "../opcodes.js";
import { checkInstruction } from "../validity.js";

export interface DisassembleOptions {
  /** Name jump and call targets with labels (`L12:`, `func_40:`) instead of `+N` offsets. Default false. */
  readonly labels?: boolean;
}

/** An instruction that has no text form because it is not a valid encoding. */
export class DisassemblyError extends TsbpfError {
  override name = "DisassemblyError";
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(`instruction ${index}: ${reason}`);
  }
}

const reg = (n: number) => `%r${n}`;

/** Upstream's immediate style: small and negative numbers in decimal, the rest in hex. */
export function formatImm(imm: number): string {
  if ((imm < 0 && imm !== -0x80000000) || (imm >= -10 && imm <= 10)) return String(imm);
  return `0x${(imm >>> 0).toString(16)}`;
}

const formatOffset = (off: number) => (off >= 0 ? `+${off}` : String(off));

const memory = (r: number, off: number) => (off === 0 ? `[${reg(r)}]` : `[${reg(r)}${formatOffset(off)}]`);

const sizeSuffix = (code: number) => SIZE_SUFFIXES.get((code & SIZE_MASK) as Size)!;

/** Where an instruction's relative target lives, if it has one. */
function targetField(insn: Instruction): { field: "off" | "imm"; call: boolean } | undefined {
  const cls = classOf(insn.code);
  if (insn.code === LDDW) return insn.src === PseudoLd.FUNC ? { field: "imm", call: true } : undefined;
  if (cls === Class.JMP32)
    return (insn.code & OP_MASK) === JumpOp.JA
      ? { field: "imm", call: false }
      : { field: "off", call: false };
  if (cls !== Class.JMP) return undefined;
  const op = insn.code & OP_MASK;
  if (op === JumpOp.EXIT) return undefined;
  if (op === JumpOp.CALL)
    return insn.code === (Class.JMP | JumpOp.CALL) && insn.src === PseudoCall.CALL
      ? { field: "imm", call: true }
      : undefined;
  return { field: "off", call: false };
}

/** The text of one valid instruction; `target` renders its jump/call target. */
function render(insn: Instruction, target: (rel: number) => string): string {
  const { code, dst, src, off, imm } = insn;
  const cls = classOf(code);
  const op = code & OP_MASK;
  const isX = (code & SOURCE_MASK) === Source.X;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const suffix = cls === Class.ALU ? "32" : "";
      if (op === AluOp.END) {
        const name = cls === Class.ALU64 ? "swap" : isX ? "be" : "le";
        return `${name}${imm} ${reg(dst)}`;
      }
      if (op === AluOp.NEG) return `neg${suffix} ${reg(dst)}`;
      if (op === AluOp.MOV && off !== 0)
        return `movsx${off}${cls === Class.ALU ? 32 : 64} ${reg(dst)}, ${reg(src)}`;
      const name = (off === 1 ? ALU_SIGNED_NAMES : ALU_BINARY_NAMES).get(op as AluOp)!;
      return `${name}${suffix} ${reg(dst)}, ${isX ? reg(src) : formatImm(imm)}`;
    }
    case Class.JMP:
    case Class.JMP32: {
      if (op === JumpOp.EXIT) return "exit";
      if (op === JumpOp.CALL) {
        if (isX) return `call ${reg(dst)}`;
        if (src === PseudoCall.CALL) return `call local ${target(imm)}`;
        if (src === PseudoCall.KFUNC) return `call runtime ${formatImm(imm)}${off !== 0 ? `, ${off}` : ""}`;
        return `call ${formatImm(imm)}`;
      }
      if (op === JumpOp.JA) return cls === Class.JMP32 ? `ja32 ${target(imm)}` : `ja ${target(off)}`;
      if (op === JumpOp.JCOND) return `may_goto ${target(off)}`;
      const name = JUMP_NAMES.get(op as JumpOp)! + (cls === Class.JMP32 ? "32" : "");
      return `${name} ${reg(dst)}, ${isX ? reg(src) : formatImm(imm)}, ${target(off)}`;
    }
    case Class.LDX: {
      const sx = (code & MODE_MASK) === Mode.MEMSX ? "s" : "";
      return `ldx${sx}${sizeSuffix(code)} ${reg(dst)}, ${memory(src, off)}`;
    }
    case Class.ST:
      return `st${sizeSuffix(code)} ${memory(dst, off)}, ${formatImm(imm)}`;
    case Class.STX: {
      if ((code & MODE_MASK) === Mode.MEM) return `stx${sizeSuffix(code)} ${memory(dst, off)}, ${reg(src)}`;
      if (imm === AtomicOp.LOAD_ACQ) return `ldxacq${sizeSuffix(code)} ${reg(dst)}, ${memory(src, off)}`;
      if (imm === AtomicOp.STORE_REL) return `stxrel${sizeSuffix(code)} ${memory(dst, off)}, ${reg(src)}`;
      const width = (code & SIZE_MASK) === Size.W ? "32" : "";
      const fetching = ATOMIC_FETCHING_NAMES.get(imm as AtomicOp);
      const name =
        fetching ??
        `${imm & AtomicOp.FETCH ? "fetch " : ""}${ATOMIC_RMW_NAMES.get((imm & ~AtomicOp.FETCH) as AtomicOp)!}`;
      return `lock ${name}${width} ${memory(dst, off)}, ${reg(src)}`;
    }
    case Class.LD: {
      if (code === LDDW) {
        if (src === PseudoLd.IMM64) return `lddw ${reg(dst)}, 0x${lddwValue(insn).toString(16)}`;
        const kind = PSEUDO_LD_NAMES.get(src as PseudoLd)!;
        if (src === PseudoLd.FUNC) return `lddw ${reg(dst)}, ${kind} ${target(imm)}`;
        const withOffset = src === PseudoLd.MAP_VALUE || src === PseudoLd.MAP_IDX_VALUE;
        return `lddw ${reg(dst)}, ${kind} ${formatImm(imm)}${withOffset ? `, ${formatImm(insn.imm2 ?? 0)}` : ""}`;
      }
      if ((code & MODE_MASK) === Mode.ABS) return `ldabs${sizeSuffix(code)} ${formatImm(imm)}`;
      return `ldind${sizeSuffix(code)} ${reg(src)}, ${formatImm(imm)}`;
    }
  }
  throw new Error("unreachable: class has 3 bits");
}

/** Disassemble a single valid instruction (targets as `+N` offsets). */
export function disassembleInstruction(insn: Instruction): string {
  const problem = checkInstruction(insn);
  if (problem) throw new DisassemblyError(0, problem);
  return render(insn, formatOffset);
}

/**
 * Disassemble a program to conformance-dialect text, one instruction per line.
 * Throws DisassemblyError naming the index of an instruction that is not a valid encoding.
 */
export function disassembleConformance(
  program: readonly Instruction[],
  options: DisassembleOptions = {},
): string {
  program.forEach((insn, i) => {
    const problem = checkInstruction(insn);
    if (problem) throw new DisassemblyError(i, problem);
  });
  const slots = slotIndexes(program);
  const names = new Map<number, string>();
  if (options.labels) {
    const starts = new Set(slots);
    // First pass: which slots are targets, and whether they are called (functions) or jumped to.
    const called = new Set<number>();
    const targets = new Set<number>();
    program.forEach((insn, i) => {
      const t = targetField(insn);
      if (!t) return;
      const slot = slots[i]! + 1 + insn[t.field];
      if (!starts.has(slot)) return; // outside the program or inside an lddw: keep the offset
      targets.add(slot);
      if (t.call) called.add(slot);
    });
    for (const slot of [...targets].sort((a, b) => a - b))
      names.set(slot, called.has(slot) ? `func_${slot}` : `L${slot}`);
  }
  const lines: string[] = [];
  program.forEach((insn, i) => {
    const here = slots[i]!;
    const label = names.get(here);
    if (label) lines.push(`${label}:`);
    lines.push(render(insn, (rel) => names.get(here + 1 + rel) ?? formatOffset(rel)));
  });
  const end = names.get(slots[program.length]!);
  if (end) lines.push(`${end}:`);
  return lines.length ? lines.join("\n") + "\n" : "";
}
