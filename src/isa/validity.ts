import type { Instruction } from "./instruction.js";
import {
  AluOp,
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  PseudoLd,
  FRAME_POINTER,
  Size,
  Source,
} from "./opcodes.js";

/**
 * The kernel's encoding rules, opcode by opcode: which opcodes exist and which fields each one
 * uses. A field an opcode does not use must be zero ("reserved fields must be zero"). These are
 * the rules of decoding, not of verification: a shift by 40 or a jump out of the program decodes.
 */
type FieldRule = "zero" | "reg" | "any" | readonly number[];

export interface OpcodeRule {
  readonly dst: FieldRule;
  readonly src: FieldRule;
  readonly off: FieldRule;
  readonly imm: FieldRule;
}

const ALU_BINARY = [
  AluOp.ADD,
  AluOp.SUB,
  AluOp.MUL,
  AluOp.DIV,
  AluOp.OR,
  AluOp.AND,
  AluOp.LSH,
  AluOp.RSH,
  AluOp.MOD,
  AluOp.XOR,
  AluOp.MOV,
  AluOp.ARSH,
] as const;

const CONDITIONAL_JUMPS = [
  JumpOp.JEQ,
  JumpOp.JGT,
  JumpOp.JGE,
  JumpOp.JSET,
  JumpOp.JNE,
  JumpOp.JSGT,
  JumpOp.JSGE,
  JumpOp.JLT,
  JumpOp.JLE,
  JumpOp.JSLT,
  JumpOp.JSLE,
] as const;

const ATOMIC_OPS: readonly number[] = [
  AtomicOp.ADD,
  AtomicOp.OR,
  AtomicOp.AND,
  AtomicOp.XOR,
  AtomicOp.ADD | AtomicOp.FETCH,
  AtomicOp.OR | AtomicOp.FETCH,
  AtomicOp.AND | AtomicOp.FETCH,
  AtomicOp.XOR | AtomicOp.FETCH,
  AtomicOp.XCHG,
  AtomicOp.CMPXCHG,
];

function buildRules(): (OpcodeRule | undefined)[] {
  const t: (OpcodeRule | undefined)[] = new Array(256).fill(undefined);
  const set = (code: number, rule: OpcodeRule) => (t[code] = rule);

  for (const cls of [Class.ALU, Class.ALU64]) {
    for (const op of ALU_BINARY) {
      const signedOff = op === AluOp.DIV || op === AluOp.MOD ? [0, 1] : "zero";
      const movOff = op === AluOp.MOV ? (cls === Class.ALU64 ? [0, 8, 16, 32] : [0, 8, 16]) : signedOff;
      set(cls | Source.K | op, { dst: "reg", src: "zero", off: signedOff, imm: "any" });
      set(cls | Source.X | op, { dst: "reg", src: "reg", off: movOff, imm: "zero" });
    }
    set(cls | Source.K | AluOp.NEG, { dst: "reg", src: "zero", off: "zero", imm: "zero" });
  }
  const widths = [16, 32, 64];
  set(Class.ALU | Source.K | AluOp.END, { dst: "reg", src: "zero", off: "zero", imm: widths }); // le
  set(Class.ALU | Source.X | AluOp.END, { dst: "reg", src: "zero", off: "zero", imm: widths }); // be
  set(Class.ALU64 | Source.K | AluOp.END, { dst: "reg", src: "zero", off: "zero", imm: widths }); // bswap

  for (const cls of [Class.JMP, Class.JMP32]) {
    for (const op of CONDITIONAL_JUMPS) {
      set(cls | Source.K | op, { dst: "reg", src: "zero", off: "any", imm: "any" });
      set(cls | Source.X | op, { dst: "reg", src: "reg", off: "any", imm: "zero" });
    }
  }
  set(Class.JMP | JumpOp.JA, { dst: "zero", src: "zero", off: "any", imm: "zero" });
  set(Class.JMP32 | JumpOp.JA, { dst: "zero", src: "zero", off: "zero", imm: "any" }); // gotol
  set(Class.JMP | JumpOp.JCOND, { dst: "zero", src: "zero", off: "any", imm: "zero" }); // may_goto
  // kfunc calls (src 2) carry a module BTF fd index in off; checked in checkInstruction.
  set(Class.JMP | Source.K | JumpOp.CALL, {
    dst: "zero",
    src: [PseudoCall.HELPER, PseudoCall.CALL, PseudoCall.KFUNC],
    off: "any",
    imm: "any",
  });
  set(Class.JMP | Source.X | JumpOp.CALL, { dst: "reg", src: "zero", off: "zero", imm: "zero" }); // callx
  set(Class.JMP | JumpOp.EXIT, { dst: "zero", src: "zero", off: "zero", imm: "zero" });

  set(LDDW, { dst: "reg", src: [0, 1, 2, 3, 4, 5, 6], off: "zero", imm: "any" });
  for (const size of [Size.W, Size.H, Size.B]) {
    set(Class.LD | Mode.ABS | size, { dst: "zero", src: "zero", off: "zero", imm: "any" });
    set(Class.LD | Mode.IND | size, { dst: "zero", src: "reg", off: "zero", imm: "any" });
    set(Class.LDX | Mode.MEMSX | size, { dst: "reg", src: "reg", off: "any", imm: "zero" });
  }
  for (const size of [Size.W, Size.H, Size.B, Size.DW]) {
    set(Class.LDX | Mode.MEM | size, { dst: "reg", src: "reg", off: "any", imm: "zero" });
    set(Class.ST | Mode.MEM | size, { dst: "reg", src: "zero", off: "any", imm: "any" });
    set(Class.STX | Mode.MEM | size, { dst: "reg", src: "reg", off: "any", imm: "zero" });
  }
  const acqRel = [AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL];
  set(Class.STX | Mode.ATOMIC | Size.W, {
    dst: "reg",
    src: "reg",
    off: "any",
    imm: [...ATOMIC_OPS, ...acqRel],
  });
  set(Class.STX | Mode.ATOMIC | Size.DW, {
    dst: "reg",
    src: "reg",
    off: "any",
    imm: [...ATOMIC_OPS, ...acqRel],
  });
  set(Class.STX | Mode.ATOMIC | Size.H, { dst: "reg", src: "reg", off: "any", imm: acqRel });
  set(Class.STX | Mode.ATOMIC | Size.B, { dst: "reg", src: "reg", off: "any", imm: acqRel });
  return t;
}

/** Rule for each of the 256 opcode bytes; undefined = no such instruction. */
export const OPCODE_RULES: readonly (OpcodeRule | undefined)[] = buildRules();

function fieldProblem(name: string, rule: FieldRule, value: number): string | undefined {
  if (rule === "any") return undefined;
  if (rule === "zero") return value === 0 ? undefined : `reserved field ${name} must be 0 (is ${value})`;
  if (rule === "reg") return value <= FRAME_POINTER ? undefined : `invalid register r${value} in ${name}`;
  return rule.includes(value) ? undefined : `${name} must be one of ${rule.join(", ")} (is ${value})`;
}

/**
 * Why an instruction is not a valid encoding, or undefined when it is.
 * The second slot of an lddw must be all zero but for its imm.
 */
export function checkInstruction(insn: Instruction): string | undefined {
  const rule = OPCODE_RULES[insn.code];
  const hex = `0x${insn.code.toString(16).padStart(2, "0")}`;
  if (!rule) return `unknown opcode ${hex}`;
  const problem =
    fieldProblem("dst", rule.dst, insn.dst) ??
    fieldProblem("src", rule.src, insn.src) ??
    (insn.code === (Class.JMP | JumpOp.CALL) && insn.src === PseudoCall.KFUNC
      ? undefined
      : insn.code === (Class.JMP | JumpOp.CALL)
        ? fieldProblem("off", "zero", insn.off)
        : fieldProblem("off", rule.off, insn.off)) ??
    fieldProblem("imm", rule.imm, insn.imm);
  if (problem) return `opcode ${hex}: ${problem}`;
  if (insn.code === LDDW && insn.src !== PseudoLd.IMM64 && insn.src !== PseudoLd.MAP_VALUE) {
    if (insn.src !== PseudoLd.MAP_IDX_VALUE && (insn.imm2 ?? 0) !== 0)
      return `opcode ${hex}: lddw with src ${insn.src} must have 0 in the second slot's imm`;
  }
  return undefined;
}
