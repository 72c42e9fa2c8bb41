/**
 * Assembler for the dialect of the BPF conformance suite (bpf_conformance, derived from uBPF's
 * assembler): `mov32 %r0, 0`, `ldxh %r0, [%r1+2]`, `lock fetch add [%r10-8], %r1`, `call local f`.
 *
 * Syntax, one instruction per line:
 *   - `#` starts a comment (whole line or trailing); blank lines are ignored.
 *   - `name:` defines a label at the next instruction (an instruction may follow on the same line).
 *     `exit` names the first exit instruction unless a label `exit:` is defined.
 *   - Registers are `%r0`..`%r10`. Operands are separated by commas and/or spaces.
 *   - Numbers are decimal or hex (`0x`), optionally signed. A 32-bit immediate in decimal is a signed
 *     value (-2147483648..2147483647); in hex it is a bit pattern (0..0xffffffff, or negated).
 *   - Memory operands: `[%r1]`, `[%r1+2]`, `[%r10-8]`; offsets are signed 16-bit.
 *   - Jump targets: a label, or a signed slot offset `+3` / `-1` (a bare number is not a target).
 *     Offsets count 8-byte slots, so an lddw counts 2.
 *
 * Mnemonics (64-bit ALU ops have no suffix or `64`; 32-bit ones end in `32`):
 *   add sub mul div sdiv or and lsh rsh mod smod xor mov arsh   DST, SRC|IMM
 *   neg                                                          DST
 *   movsx832 movsx1632 movsx864 movsx1664 movsx3264               DST, SRC   (movsx<from><to>)
 *   le16 le32 le64 be16 be32 be64 swap16 swap32 swap64 (bswapN)  DST
 *   jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle[32]          DST, SRC|IMM, TARGET
 *   ja TARGET          ja32 TARGET (alias gotol; 32-bit offset in imm)     may_goto TARGET
 *   exit   call IMM (alias call helper IMM)   call %rN (alias callx %rN; register in dst)
 *   call local TARGET (src 1, imm = relative slot offset)   call runtime IMM[, OFF] (alias
 *   call kfunc; kfunc BTF id, OFF = fd_array index of the module BTF)
 *   ldx{b,h,w,dw} DST, [SRC+OFF]      ldxs{b,h,w} DST, [SRC+OFF]   (sign-extending)
 *   st{b,h,w,dw} [DST+OFF], IMM       stx{b,h,w,dw} [DST+OFF], SRC
 *   lock [fetch] add|or|and|xor[32] [DST+OFF], SRC    lock xchg|cmpxchg[32] [DST+OFF], SRC
 *   ldxacq{b,h,w,dw} DST, [SRC+OFF]   stxrel{b,h,w,dw} [DST+OFF], SRC   (load-acquire, store-release)
 *   ldabs{b,h,w} IMM                  ldind{b,h,w} SRC, IMM            (legacy packet loads)
 *   lddw DST, IMM64
 *   lddw DST, map_fd FD | map_value FD, OFF | btf_id ID | func TARGET | map_idx IDX
 *           | map_idx_value IDX, OFF                                  (lddw pseudo sources 1..6)
 *
 * The last four groups (acquire/release, legacy loads spelled this way, lddw pseudo sources,
 * may_goto/gotol, kfunc offsets) are tsbpf extensions; everything else encodes exactly as upstream.
 */
import { ParseError } from "../../errors.js";
import type { Instruction } from "../instruction.js";
import { splitImm64 } from "../instruction.js";
import {
  ALU_BINARY_NAMES,
  ALU_SIGNED_NAMES,
  ATOMIC_FETCHING_NAMES,
  ATOMIC_RMW_NAMES,
  ENDIAN_WIDTHS,
  JUMP_NAMES,
  MOVSX_WIDTHS,
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
  REGISTER_COUNT,
  Size,
  Source,
} from "../opcodes.js";

/** A label reference waiting for the label's slot: `field` receives target - (slot + 1). */
interface LabelRef {
  readonly name: string;
  readonly field: "off" | "imm";
}

interface Encoded {
  readonly insn: Instruction;
  readonly label?: LabelRef;
}

/** One mnemonic: its operand syntax (for messages), operand count range and encoder. */
interface Form {
  readonly syntax: string;
  readonly arity: readonly [min: number, max: number];
  encode(ops: readonly string[], p: OperandParser): Encoded;
}

const NUMBER = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/;
const LABEL = /^[A-Za-z_.$][\w.$]*$/;
const MEMORY = /^\[(%?\w+)(?:([+-])(0[xX][0-9a-fA-F]+|[0-9]+))?\]$/;

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

type Target = { readonly offset: number } | { readonly label: string };

/** Parses operand tokens of one line, throwing ParseError that names file and line. */
class OperandParser {
  constructor(
    readonly file: string | undefined,
    readonly line: number,
  ) {}

  fail(reason: string): never {
    throw new ParseError(reason, this.file, this.line);
  }

  reg(tok: string): number {
    const m = /^%r(\d+)$/.exec(tok);
    const n = m ? Number(m[1]) : NaN;
    if (!(n < REGISTER_COUNT)) this.fail(`invalid register '${tok}' (expected %r0..%r10)`);
    return n;
  }

  isReg(tok: string): boolean {
    return tok.startsWith("%");
  }

  private number(tok: string, what: string): { value: bigint; hex: boolean } {
    const m = NUMBER.exec(tok);
    if (!m) this.fail(`invalid ${what} '${tok}' (expected a decimal or 0x hex number)`);
    const magnitude = BigInt(m[2]!);
    return { value: m[1] === "-" ? -magnitude : magnitude, hex: /^0x/i.test(m[2]!) };
  }

  /** 32-bit immediate: signed in decimal, a bit pattern in hex. */
  imm32(tok: string): number {
    const { value, hex } = this.number(tok, "immediate");
    const max = hex ? UINT32_MAX : INT32_MAX;
    if (value < INT32_MIN || value > max)
      this.fail(
        `immediate ${tok} out of 32-bit range (${hex ? "-0x80000000..0xffffffff" : "-2147483648..2147483647"})`,
      );
    return Number(BigInt.asIntN(32, value));
  }

  imm64(tok: string): bigint {
    const { value } = this.number(tok, "immediate");
    if (value < -(2n ** 63n) || value >= 2n ** 64n) this.fail(`immediate ${tok} out of 64-bit range`);
    return value;
  }

  /** Signed value of `bits` bits (offsets). */
  signed(tok: string, bits: 16 | 32, what: string): number {
    const { value } = this.number(tok, what);
    const lim = 1n << BigInt(bits - 1);
    if (value < -lim || value >= lim)
      this.fail(`${what} ${tok} out of ${bits}-bit signed range (${-lim}..${lim - 1n})`);
    return Number(value);
  }

  mem(tok: string): { reg: number; off: number } {
    const m = MEMORY.exec(tok);
    if (!m) this.fail(`expected a memory operand like [%r1+2], got '${tok}'`);
    const reg = this.reg(m[1]!);
    const off = m[2] === undefined ? 0 : this.signed(`${m[2]}${m[3]}`, 16, "offset");
    return { reg, off };
  }

  target(tok: string, bits: 16 | 32): Target {
    if (tok.startsWith("+") || tok.startsWith("-")) return { offset: this.signed(tok, bits, "jump offset") };
    if (!LABEL.test(tok))
      this.fail(`invalid jump target '${tok}' (expected a label or a signed offset like +3)`);
    return { label: tok };
  }
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Instruction => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** An instruction whose `field` holds a jump target, resolved later when it is a label. */
function withTarget(base: Instruction, field: "off" | "imm", t: Target): Encoded {
  if ("offset" in t) return { insn: { ...base, [field]: t.offset } };
  return { insn: base, label: { name: t.label, field } };
}

function buildForms(): Map<string, Form> {
  const forms = new Map<string, Form>();
  const add = (name: string, syntax: string, arity: number | [number, number], encode: Form["encode"]) =>
    forms.set(name, { syntax, arity: typeof arity === "number" ? [arity, arity] : arity, encode });

  const aluWidths: [suffix: string, cls: Class][] = [
    ["", Class.ALU64],
    ["64", Class.ALU64],
    ["32", Class.ALU],
  ];
  for (const [suffix, cls] of aluWidths) {
    const binary = [...ALU_BINARY_NAMES].map(([op, n]) => [op, n, 0] as const);
    const signed = [...ALU_SIGNED_NAMES].map(([op, n]) => [op, n, 1] as const);
    for (const [op, name, off] of [...binary, ...signed]) {
      add(name + suffix, "%dst, %src|imm", 2, ([d, s], p) =>
        p.isReg(s!)
          ? { insn: insn(cls | Source.X | op, p.reg(d!), p.reg(s!), off) }
          : { insn: insn(cls | Source.K | op, p.reg(d!), 0, off, p.imm32(s!)) },
      );
    }
    add("neg" + suffix, "%dst", 1, ([d], p) => ({ insn: insn(cls | AluOp.NEG, p.reg(d!)) }));
    for (const from of MOVSX_WIDTHS) {
      if (cls === Class.ALU && from === 32) continue;
      const to = cls === Class.ALU ? "32" : "64";
      add(`movsx${from}${to}`, "%dst, %src", 2, ([d, s], p) => ({
        insn: insn(cls | Source.X | AluOp.MOV, p.reg(d!), p.reg(s!), from),
      }));
    }
  }
  for (const width of ENDIAN_WIDTHS) {
    const endian: [string, number][] = [
      ["le", Class.ALU | Source.K | AluOp.END],
      ["be", Class.ALU | Source.X | AluOp.END],
      ["swap", Class.ALU64 | Source.K | AluOp.END],
      ["bswap", Class.ALU64 | Source.K | AluOp.END],
    ];
    for (const [name, code] of endian)
      add(name + width, "%dst", 1, ([d], p) => ({ insn: insn(code, p.reg(d!), 0, 0, width) }));
  }

  for (const [suffix, cls] of [
    ["", Class.JMP],
    ["32", Class.JMP32],
  ] as const) {
    for (const [op, name] of JUMP_NAMES) {
      add(name + suffix, "%dst, %src|imm, target", 3, ([d, s, t], p) =>
        withTarget(
          p.isReg(s!)
            ? insn(cls | Source.X | op, p.reg(d!), p.reg(s!))
            : insn(cls | Source.K | op, p.reg(d!), 0, 0, p.imm32(s!)),
          "off",
          p.target(t!, 16),
        ),
      );
    }
  }
  add("ja", "target", 1, ([t], p) => withTarget(insn(Class.JMP | JumpOp.JA), "off", p.target(t!, 16)));
  for (const name of ["ja32", "gotol"])
    add(name, "target", 1, ([t], p) => withTarget(insn(Class.JMP32 | JumpOp.JA), "imm", p.target(t!, 32)));
  add("may_goto", "target", 1, ([t], p) =>
    withTarget(insn(Class.JMP | JumpOp.JCOND), "off", p.target(t!, 16)),
  );
  add("exit", "", 0, () => ({ insn: insn(Class.JMP | JumpOp.EXIT) }));
  const helperOrCallx: Form["encode"] = ([t], p) =>
    p.isReg(t!)
      ? { insn: insn(Class.JMP | Source.X | JumpOp.CALL, p.reg(t!)) }
      : { insn: insn(Class.JMP | Source.K | JumpOp.CALL, 0, PseudoCall.HELPER, 0, p.imm32(t!)) };
  add("call", "imm|%reg", 1, helperOrCallx);
  add("call helper", "imm|%reg", 1, helperOrCallx);
  add("callx", "%reg", 1, ([r], p) => ({ insn: insn(Class.JMP | Source.X | JumpOp.CALL, p.reg(r!)) }));
  add("call local", "target", 1, ([t], p) =>
    withTarget(insn(Class.JMP | JumpOp.CALL, 0, PseudoCall.CALL), "imm", p.target(t!, 32)),
  );
  for (const name of ["call runtime", "call kfunc"])
    add(name, "btf_id[, fd_index]", [1, 2], ([id, idx], p) => ({
      insn: insn(
        Class.JMP | JumpOp.CALL,
        0,
        PseudoCall.KFUNC,
        idx === undefined ? 0 : p.signed(idx, 16, "fd_array index"),
        p.imm32(id!),
      ),
    }));

  for (const [size, s] of SIZE_SUFFIXES) {
    add(`ldx${s}`, "%dst, [%src+off]", 2, ([d, m], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.LDX | Mode.MEM | size, p.reg(d!), reg, off) };
    });
    add(`st${s}`, "[%dst+off], imm", 2, ([m, i], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.ST | Mode.MEM | size, reg, 0, off, p.imm32(i!)) };
    });
    add(`stx${s}`, "[%dst+off], %src", 2, ([m, r], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.STX | Mode.MEM | size, reg, p.reg(r!), off) };
    });
    add(`ldxacq${s}`, "%dst, [%src+off]", 2, ([d, m], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.STX | Mode.ATOMIC | size, p.reg(d!), reg, off, AtomicOp.LOAD_ACQ) };
    });
    add(`stxrel${s}`, "[%dst+off], %src", 2, ([m, r], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.STX | Mode.ATOMIC | size, reg, p.reg(r!), off, AtomicOp.STORE_REL) };
    });
    if (size === Size.DW) continue;
    add(`ldxs${s}`, "%dst, [%src+off]", 2, ([d, m], p) => {
      const { reg, off } = p.mem(m!);
      return { insn: insn(Class.LDX | Mode.MEMSX | size, p.reg(d!), reg, off) };
    });
    add(`ldabs${s}`, "imm", 1, ([i], p) => ({
      insn: insn(Class.LD | Mode.ABS | size, 0, 0, 0, p.imm32(i!)),
    }));
    add(`ldind${s}`, "%src, imm", 2, ([r, i], p) => ({
      insn: insn(Class.LD | Mode.IND | size, 0, p.reg(r!), 0, p.imm32(i!)),
    }));
  }

  const atomic = (name: string, op: number) => {
    for (const [suffix, size] of [
      ["", Size.DW],
      ["32", Size.W],
    ] as const)
      add(`lock ${name}${suffix}`, "[%dst+off], %src", 2, ([m, r], p) => {
        const { reg, off } = p.mem(m!);
        return { insn: insn(Class.STX | Mode.ATOMIC | size, reg, p.reg(r!), off, op) };
      });
  };
  for (const [op, name] of ATOMIC_RMW_NAMES) {
    atomic(name, op);
    atomic(`fetch ${name}`, op | AtomicOp.FETCH);
  }
  for (const [op, name] of ATOMIC_FETCHING_NAMES) {
    atomic(name, op);
    atomic(`fetch ${name}`, op); // fetch is implied; upstream accepts the redundant keyword
  }

  add("lddw", "%dst, imm64", 2, ([d, v], p) => ({
    insn: { ...insn(LDDW, p.reg(d!)), ...splitImm64(p.imm64(v!)) },
  }));
  const pseudo = (src: PseudoLd) => `lddw ${PSEUDO_LD_NAMES.get(src)}`;
  const lddw = (dst: number, src: PseudoLd, imm: number, imm2 = 0): Instruction => ({
    ...insn(LDDW, dst, src, 0, imm),
    imm2,
  });
  for (const src of [PseudoLd.MAP_FD, PseudoLd.BTF_ID, PseudoLd.MAP_IDX])
    add(pseudo(src), "%dst, imm", 2, ([d, i], p) => ({ insn: lddw(p.reg(d!), src, p.imm32(i!)) }));
  for (const src of [PseudoLd.MAP_VALUE, PseudoLd.MAP_IDX_VALUE])
    add(pseudo(src), "%dst, imm, value_offset", 3, ([d, i, o], p) => ({
      insn: lddw(p.reg(d!), src, p.imm32(i!), p.imm32(o!)),
    }));
  add(pseudo(PseudoLd.FUNC), "%dst, target", 2, ([d, t], p) =>
    withTarget(lddw(p.reg(d!), PseudoLd.FUNC, 0), "imm", p.target(t!, 32)),
  );
  return forms;
}

const FORMS: ReadonlyMap<string, Form> = buildForms();
const CALL_KINDS = new Set(["helper", "local", "runtime", "kfunc"]);
const LDDW_KINDS = new Set(PSEUDO_LD_NAMES.values());

/** Splits an instruction into tokens: bracketed memory operands stay whole, commas separate. */
function tokenize(text: string): string[] {
  return (text.match(/\[[^\]]*\]?|[^\s,[]+/g) ?? []).map((t) =>
    t.startsWith("[") ? t.replace(/\s+/g, "") : t,
  );
}

/** Joins the words that form a multi-word mnemonic (`lock fetch add`, `call local`, `lddw map_fd`). */
function splitMnemonic(tokens: string[]): { mnemonic: string; operands: string[] } {
  const first = tokens[0]!.toLowerCase();
  if (first === "lock") {
    const end = tokens.findIndex((t, i) => i > 0 && (t.startsWith("[") || t.startsWith("%")));
    const words = tokens.slice(1, end < 0 ? tokens.length : end).map((w) => w.toLowerCase());
    return { mnemonic: ["lock", ...words].join(" "), operands: tokens.slice(1 + words.length) };
  }
  if (first === "call" && tokens.length > 1 && CALL_KINDS.has(tokens[1]!.toLowerCase()))
    return { mnemonic: `call ${tokens[1]!.toLowerCase()}`, operands: tokens.slice(2) };
  if (first === "lddw" && tokens.length > 2 && LDDW_KINDS.has(tokens[2]!.toLowerCase()))
    return { mnemonic: `lddw ${tokens[2]!.toLowerCase()}`, operands: [tokens[1]!, ...tokens.slice(3)] };
  return { mnemonic: first, operands: tokens.slice(1) };
}

const LABEL_DEF = /^([A-Za-z_.$][\w.$]*)\s*:(.*)$/;

/**
 * Assemble conformance-dialect text into instructions. Throws ParseError naming `file:line`
 * (unknown mnemonic, bad register, operand count, out-of-range number, unknown or duplicate label).
 */
export function assembleConformance(text: string, file?: string): Instruction[] {
  const out: Instruction[] = [];
  const pending: { index: number; slot: number; ref: LabelRef; line: number }[] = [];
  const labels = new Map<string, { slot: number; line: number }>();
  let slot = 0;
  let firstExit: number | undefined;

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const p: OperandParser = new OperandParser(file, lineNo);
    let body = lines[i]!.replace(/#.*$/, "").trim();
    for (let m = LABEL_DEF.exec(body); m; m = LABEL_DEF.exec(body)) {
      const prev = labels.get(m[1]!);
      if (prev) p.fail(`duplicate label '${m[1]}' (first defined on line ${prev.line})`);
      labels.set(m[1]!, { slot, line: lineNo });
      body = m[2]!.trim();
    }
    if (body === "") continue;
    const tokens = tokenize(body);
    const { mnemonic, operands } = splitMnemonic(tokens);
    const form = FORMS.get(mnemonic);
    if (!form) {
      if (mnemonic === "lock")
        p.fail("'lock' needs an operation: lock [fetch] add|or|and|xor|xchg|cmpxchg[32] [%dst+off], %src");
      p.fail(`unknown mnemonic '${mnemonic}'`);
    }
    if (mnemonic === "call" && operands.length === 1 && LABEL.test(operands[0]!))
      p.fail(`invalid helper id '${operands[0]}' (a BPF-to-BPF call is written 'call local ${operands[0]}')`);
    if (mnemonic === "call" && operands.length === 2)
      p.fail(`unknown call kind '${operands[0]}' (expected helper, local, runtime or kfunc)`);
    const [min, max] = form.arity;
    if (operands.length < min || operands.length > max) {
      const want = min === max ? `${min}` : `${min} or ${max}`;
      p.fail(
        `'${mnemonic}' takes ${want} operand${max === 1 ? "" : "s"}${form.syntax ? ` (${mnemonic} ${form.syntax})` : ""}, got ${operands.length}`,
      );
    }
    const { insn: encoded, label } = form.encode(operands, p);
    if (label) pending.push({ index: out.length, slot, ref: label, line: lineNo });
    if (encoded.code === (Class.JMP | JumpOp.EXIT) && firstExit === undefined) firstExit = slot;
    out.push(encoded);
    slot += encoded.code === LDDW ? 2 : 1;
  }

  for (const { index, slot: at, ref, line } of pending) {
    const target = labels.get(ref.name)?.slot ?? (ref.name === "exit" ? firstExit : undefined);
    if (target === undefined) throw new ParseError(`unknown label '${ref.name}'`, file, line);
    const rel = target - at - 1;
    if (ref.field === "off" && (rel < -32768 || rel > 32767))
      throw new ParseError(
        `jump to '${ref.name}' is ${rel} slots away, out of the 16-bit offset range`,
        file,
        line,
      );
    out[index] = { ...out[index]!, [ref.field]: rel };
  }
  return out;
}

/** Every mnemonic the assembler knows (multi-word ones like `lock fetch add` included). */
export const CONFORMANCE_MNEMONICS: readonly string[] = [...FORMS.keys()];
