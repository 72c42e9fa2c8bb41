import { ParseError } from "../../errors.js";
import type { Instruction } from "../instruction.js";
import { splitImm64 } from "../instruction.js";
import { helperByName } from "../helpers.js";
import { AluOp, AtomicOp, Class, JumpOp, LDDW, Mode, PseudoCall, Size, Source } from "../opcodes.js";
import {
  ALU_OPERATORS,
  ATOMIC_FETCH_NAMES,
  ATOMIC_LOCK_OPERATORS,
  JUMP_OPERATORS,
  SIGNED_ALU_OPERATORS,
  SIGNED_SIZE_TYPES,
  SIZE_TYPES,
  keyOf,
} from "./syntax.js";

/**
 * Parser of the LLVM / kernel eBPF assembly syntax:
 *  - what llvm-objdump prints (with or without addresses, raw bytes, `<sym>:` headers and
 *    ` <sym+0x10>` jump comments), and what clang -S writes (decimal numbers, labels);
 *  - the kernel verifier-log / bpftool xlated forms: `0: (b7) r0 = 42`, `(r10 -8)`, `goto pc+3`,
 *    `call bpf_map_lookup_elem#1`, `call pc+2`, `r0 = atomic64_fetch_add(...)`;
 *  - helper calls by name (`call bpf_map_lookup_elem` or `call map_lookup_elem`) and jumps or
 *    BPF-to-BPF calls to labels;
 *  - comments after `;`, `//` or ` #`. A comment made only of field assignments
 *    (`; src=1 imm2=0x8`) overrides those fields: the disassembler writes one where the text
 *    alone does not determine the encoding (llvm-objdump prints `call -0x1` for helper and
 *    BPF-to-BPF calls alike).
 */

/** One parsed statement before label resolution. */
interface Draft {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  imm2?: number;
  /** Label whose relative slot distance goes into `off` or `imm`. */
  target?: { label: string; field: "off" | "imm" };
}

const REG = String.raw`([rw])(\d+)`;
const NUM = String.raw`([+-]?(?:0x[0-9a-fA-F]+|\d+))`;
const UNUM = String.raw`(0x[0-9a-fA-F]+|\d+)`;
const MEM = String.raw`\(\s*r(\d+)\s*([+-])\s*${UNUM}\s*\)`;
const BARE_MEM = String.raw`r(\d+)\s*([+-])\s*${UNUM}`;
const TYPE = String.raw`\(\s*([us]\d+)\s*\*\s*\)`;
const TARGET = String.raw`(?:pc)?([+-]\s*(?:0x[0-9a-fA-F]+|\d+))|([A-Za-z_.$][\w.$]*)`;

class LineError extends Error {}
const fail = (reason: string): never => {
  throw new LineError(reason);
};

function num(text: string, min: number, max: number, what: string): number {
  const v = bigNum(text);
  if (v < BigInt(min) || v > BigInt(max)) fail(`${what} ${text} out of range`);
  return Number(v);
}

function bigNum(text: string): bigint {
  const t = text.replace(/\s+/g, "");
  const neg = t.startsWith("-");
  const body = t.replace(/^[+-]/, "");
  const v = BigInt(body);
  return neg ? -v : v;
}

const imm32 = (text: string, what = "immediate") => num(text, -0x80000000, 0xffffffff, what) | 0;
const off16 = (text: string, what = "offset") => num(text, -0x8000, 0x7fff, what);

function reg(kind: string | undefined, n: string | undefined, allowed?: "r" | "w"): number {
  const r = Number(n);
  if (r > 10) fail(`no register ${kind}${n}`);
  if (allowed && kind !== allowed) fail(`expected ${allowed}${n}, got ${kind}${n}`);
  return r;
}

function memOff(sign: string, value: string): number {
  return off16(`${sign}${value}`, "memory offset");
}

function sizeOf(type: string, table: ReadonlyMap<Size, string>): Size {
  const s = keyOf(table, type);
  if (s === undefined) fail(`unknown access type ${type}`);
  return s!;
}

function jumpTarget(
  relative: string | undefined,
  label: string | undefined,
  field: "off" | "imm",
  d: Draft,
): Draft {
  if (label !== undefined) return { ...d, target: { label, field } };
  const value = field === "off" ? off16(relative!, "jump offset") : imm32(relative!, "jump offset");
  return { ...d, [field]: value };
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Draft => ({ code, dst, src, off, imm });

type Rule = readonly [RegExp, (m: RegExpExecArray) => Draft];
const rx = (s: string) => new RegExp(`^${s}$`);

const RULES: readonly Rule[] = [
  [rx("exit"), () => insn(Class.JMP | JumpOp.EXIT)],
  [rx(`callx\\s+${REG}`), (m) => insn(Class.JMP | JumpOp.CALL | Source.X, reg(m[1], m[2], "r"))],
  [rx(`gotox\\s+${REG}`), (m) => insn(Class.JMP | JumpOp.JA | Source.X, reg(m[1], m[2], "r"))],
  // kernel: call bpf_map_lookup_elem#1, call unknown#200, call kernel-function#1234
  [
    rx(`call\\s+([\\w-]+)#(-?\\d+)`),
    (m) =>
      insn(Class.JMP | JumpOp.CALL, 0, m[1] === "kernel-function" ? PseudoCall.KFUNC : 0, 0, imm32(m[2]!)),
  ],
  // kernel: call pc+5 (BPF-to-BPF)
  [rx(`call\\s+pc${NUM}`), (m) => insn(Class.JMP | JumpOp.CALL, 0, PseudoCall.CALL, 0, imm32(m[1]!))],
  [rx(`call\\s+${NUM}`), (m) => insn(Class.JMP | JumpOp.CALL, 0, 0, 0, imm32(m[1]!))],
  [
    rx(`call\\s+([A-Za-z_.$][\\w.$]*)`),
    (m) => {
      const helper = helperByName(m[1]!);
      if (helper) return insn(Class.JMP | JumpOp.CALL, 0, 0, 0, helper.id);
      return { ...insn(Class.JMP | JumpOp.CALL, 0, PseudoCall.CALL), target: { label: m[1]!, field: "imm" } };
    },
  ],
  [rx(`goto\\s+(?:${TARGET})`), (m) => jumpTarget(m[1], m[2], "off", insn(Class.JMP | JumpOp.JA))],
  [rx(`gotol\\s+(?:${TARGET})`), (m) => jumpTarget(m[1], m[2], "imm", insn(Class.JMP32 | JumpOp.JA))],
  [rx(`may_goto\\s+(?:${TARGET})`), (m) => jumpTarget(m[1], m[2], "off", insn(Class.JMP | JumpOp.JCOND))],
  [
    rx(`if\\s+${REG}\\s*(==|!=|s?>=?|s?<=?|&)\\s*(?:${REG}|${NUM})\\s+goto\\s+(?:${TARGET})`),
    (m) => {
      const op = keyOf(JUMP_OPERATORS, m[3]!);
      if (op === undefined) fail(`unknown comparison ${m[3]}`);
      const cls = m[1] === "w" ? Class.JMP32 : Class.JMP;
      const dst = reg(m[1], m[2]);
      const d =
        m[4] !== undefined
          ? insn(cls | op! | Source.X, dst, reg(m[4], m[5], m[1] as "r" | "w"))
          : insn(cls | op! | Source.K, dst, 0, 0, imm32(m[6]!));
      return jumpTarget(m[7], m[8], "off", d);
    },
  ],
  // 64-bit immediates
  [rx(`${REG}\\s*=\\s*${NUM}\\s+ll`), (m) => lddw(reg(m[1], m[2], "r"), 0, bigNum(m[3]!))],
  [
    rx(`ld_pseudo\\s+${REG}\\s*,\\s*${NUM}\\s*,\\s*${NUM}`),
    (m) => ({
      ...insn(LDDW, reg(m[1], m[2], "r"), num(m[3]!, 0, 15, "pseudo source"), 0, imm32(m[4]!)),
      imm2: 0,
    }),
  ],
  // byte swaps
  [
    rx(`${REG}\\s*=\\s*(be|le|bswap)(16|32|64)\\s+${REG}`),
    (m) => {
      const dst = reg(m[1], m[2]);
      if (reg(m[5], m[6]) !== dst) fail("byte swap must name the same register twice");
      const code =
        m[3] === "bswap"
          ? Class.ALU64 | AluOp.END
          : Class.ALU | AluOp.END | (m[3] === "be" ? Source.X : Source.K);
      return insn(code, dst, 0, 0, Number(m[4]));
    },
  ],
  [
    rx(`${REG}\\s*=\\s*-\\s*${REG}`),
    (m) => {
      const dst = reg(m[1], m[2]);
      if (m[3] !== m[1] || reg(m[3], m[4]) !== dst) fail("negation must name the same register twice");
      return insn((m[1] === "w" ? Class.ALU : Class.ALU64) | AluOp.NEG, dst);
    },
  ],
  [
    rx(`${REG}\\s*=\\s*\\((s8|s16|s32)\\)\\s*${REG}`),
    (m) => {
      const cls = m[1] === "w" ? Class.ALU : Class.ALU64;
      return insn(
        cls | AluOp.MOV | Source.X,
        reg(m[1], m[2]),
        reg(m[4], m[5], m[1] as "r" | "w"),
        Number(m[3]!.slice(1)),
      );
    },
  ],
  [
    rx(`${REG}\\s*=\\s*addr_space_cast\\(\\s*${REG}\\s*,\\s*${NUM}\\s*,\\s*${NUM}\\s*\\)`),
    (m) => {
      const dstAs = num(m[5]!, 0, 0xffff, "address space");
      const srcAs = num(m[6]!, 0, 0xffff, "address space");
      return insn(
        Class.ALU64 | AluOp.MOV | Source.X,
        reg(m[1], m[2], "r"),
        reg(m[3], m[4], "r"),
        1,
        (dstAs << 16) | srcAs | 0,
      );
    },
  ],
  [
    rx(`${REG}\\s*=\\s*&\\(void __percpu \\*\\)\\(${REG}\\)`),
    (m) => insn(Class.ALU64 | AluOp.MOV | Source.X, reg(m[1], m[2], "r"), reg(m[3], m[4], "r"), -1),
  ],
  // packet loads: r0 = *(u8 *)skb[0x1], r0 = *(u16 *)skb[r1], kernel r0 = *(u16 *)skb[r1 + 0]
  [
    rx(`${REG}\\s*=\\s*\\*${TYPE}\\s*skb\\[\\s*${NUM}\\s*\\]`),
    (m) => {
      if (reg(m[1], m[2], "r") !== 0) fail("packet loads write r0");
      return insn(Class.LD | Mode.ABS | sizeOf(m[3]!, SIZE_TYPES), 0, 0, 0, imm32(m[4]!));
    },
  ],
  [
    rx(`${REG}\\s*=\\s*\\*${TYPE}\\s*skb\\[\\s*${REG}\\s*(?:\\+\\s*${NUM})?\\s*\\]`),
    (m) => {
      if (reg(m[1], m[2], "r") !== 0) fail("packet loads write r0");
      const imm = m[6] !== undefined ? imm32(m[6]) : 0;
      return insn(Class.LD | Mode.IND | sizeOf(m[3]!, SIZE_TYPES), 0, reg(m[4], m[5], "r"), 0, imm);
    },
  ],
  // loads
  [
    rx(`${REG}\\s*=\\s*\\*${TYPE}\\s*${MEM}`),
    (m) => {
      const t = m[3]!;
      const signed = t.startsWith("s");
      const size = sizeOf(t, signed ? SIGNED_SIZE_TYPES : SIZE_TYPES);
      return insn(
        Class.LDX | (signed ? Mode.MEMSX : Mode.MEM) | size,
        reg(m[1], m[2]),
        reg("r", m[4]),
        memOff(m[5]!, m[6]!),
      );
    },
  ],
  // stores
  [
    rx(`\\*${TYPE}\\s*${MEM}\\s*=\\s*(?:${REG}|${NUM})`),
    (m) => {
      const size = sizeOf(m[1]!, SIZE_TYPES);
      const dst = reg("r", m[2]);
      const off = memOff(m[3]!, m[4]!);
      return m[5] !== undefined
        ? insn(Class.STX | Mode.MEM | size, dst, reg(m[5], m[6]), off)
        : insn(Class.ST | Mode.MEM | size, dst, 0, off, imm32(m[7]!));
    },
  ],
  // atomics
  [
    rx(`lock\\s+\\*${TYPE}\\s*${MEM}\\s*(\\+=|\\|=|&=|\\^=)\\s*${REG}`),
    (m) => atomic(m[1]!, m[2]!, m[3]!, m[4]!, keyOf(ATOMIC_LOCK_OPERATORS, m[5]!)!, reg(m[6], m[7])),
  ],
  [
    rx(
      `${REG}\\s*=\\s*atomic(?:64)?_fetch_(add|and|or|xor)\\(\\s*\\(\\s*([us]\\d+)\\s*\\*\\s*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`,
    ),
    (m) => {
      const src = reg(m[8], m[9]);
      if (reg(m[1], m[2]) !== src) fail("atomic fetch returns the old value in its source register");
      return atomic(m[4]!, m[5]!, m[6]!, m[7]!, keyOf(ATOMIC_FETCH_NAMES, m[3]!)!, src);
    },
  ],
  [
    rx(`${REG}\\s*=\\s*(?:xchg_64|xchg32_32)\\(\\s*${BARE_MEM}\\s*,\\s*${REG}\\s*\\)`),
    (m) => xchg(m, m[0]!.includes("xchg_64") ? "u64" : "u32", 3),
  ],
  [
    rx(
      `${REG}\\s*=\\s*atomic(?:64)?_xchg\\(\\s*\\(\\s*([us]\\d+)\\s*\\*\\s*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`,
    ),
    (m) => xchg(m, m[3]!, 4),
  ],
  [
    rx(`${REG}\\s*=\\s*(?:cmpxchg_64|cmpxchg32_32)\\(\\s*${BARE_MEM}\\s*,\\s*${REG}\\s*,\\s*${REG}\\s*\\)`),
    (m) => cmpxchg(m, m[0]!.includes("cmpxchg_64") ? "u64" : "u32", 3),
  ],
  [
    rx(
      `${REG}\\s*=\\s*atomic(?:64)?_cmpxchg\\(\\s*\\(\\s*([us]\\d+)\\s*\\*\\s*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*,\\s*${REG}\\s*\\)`,
    ),
    (m) => cmpxchg(m, m[3]!, 4),
  ],
  [
    rx(`${REG}\\s*=\\s*load_acquire\\(\\s*\\(\\s*([us]\\d+)\\s*\\*\\s*\\)\\s*${MEM}\\s*\\)`),
    (m) => {
      const size = sizeOf(m[3]!, SIZE_TYPES);
      return insn(
        Class.STX | Mode.ATOMIC | size,
        reg(m[1], m[2]),
        reg("r", m[4]),
        memOff(m[5]!, m[6]!),
        AtomicOp.LOAD_ACQ,
      );
    },
  ],
  [
    rx(`store_release\\(\\s*\\(\\s*([us]\\d+)\\s*\\*\\s*\\)\\s*${MEM}\\s*,\\s*${REG}\\s*\\)`),
    (m) => {
      const size = sizeOf(m[1]!, SIZE_TYPES);
      return insn(
        Class.STX | Mode.ATOMIC | size,
        reg("r", m[2]),
        reg(m[5], m[6]),
        memOff(m[3]!, m[4]!),
        AtomicOp.STORE_REL,
      );
    },
  ],
  // ALU: r0 += r1, w0 s/= 0x3, r1 = 0x2a (a constant beyond 32 bits without `ll` becomes lddw)
  [
    rx(`${REG}\\s*(\\+=|-=|\\*=|s?/=|\\|=|&=|<<=|s?>>=|s?%=|\\^=|=)\\s*(?:${REG}|${NUM})`),
    (m) => {
      const r = m[1] as "r" | "w";
      const cls = r === "w" ? Class.ALU : Class.ALU64;
      const text = m[3]!;
      const signed = keyOf(SIGNED_ALU_OPERATORS, text);
      const op = signed ?? keyOf(ALU_OPERATORS, text);
      if (op === undefined) fail(`unknown operator ${text}`);
      const dst = reg(r, m[2]);
      const off = signed !== undefined ? 1 : 0;
      if (m[4] !== undefined) return insn(cls | op! | Source.X, dst, reg(m[4], m[5], r), off);
      const value = bigNum(m[6]!);
      if (op === AluOp.MOV && cls === Class.ALU64 && (value < -0x80000000n || value > 0xffffffffn))
        return lddw(dst, 0, value);
      return insn(cls | op! | Source.K, dst, 0, off, imm32(m[6]!));
    },
  ],
];

function lddw(dst: number, src: number, value: bigint): Draft {
  if (value < -(1n << 63n) || value >= 1n << 64n) fail(`64-bit immediate ${value} out of range`);
  const { imm, imm2 } = splitImm64(value);
  return { ...insn(LDDW, dst, src, 0, imm), imm2 };
}

function atomic(type: string, base: string, sign: string, value: string, imm: number, src: number): Draft {
  const size = sizeOf(type, SIZE_TYPES);
  if (size !== Size.DW && size !== Size.W) fail(`atomic operations are 32 or 64 bits, not ${type}`);
  return insn(Class.STX | Mode.ATOMIC | size, reg("r", base), src, memOff(sign, value), imm);
}

/** `rS = xchg_64(rD + off, rS)`, `rS = atomic64_xchg((u64 *)(rD +off), rS)`. */
function xchg(m: RegExpExecArray, type: string, at: number): Draft {
  const src = reg(m[at + 3], m[at + 4]);
  if (reg(m[1], m[2]) !== src) fail("xchg returns the old value in its source register");
  return atomic(type, m[at]!, m[at + 1]!, m[at + 2]!, AtomicOp.XCHG, src);
}

/** `r0 = cmpxchg_64(rD + off, r0, rS)`, `r0 = atomic64_cmpxchg((u64 *)(rD +off), r0, rS)`. */
function cmpxchg(m: RegExpExecArray, type: string, at: number): Draft {
  if (reg(m[1], m[2]) !== 0 || reg(m[at + 3], m[at + 4]) !== 0)
    fail("cmpxchg compares with and returns in r0");
  return atomic(type, m[at]!, m[at + 1]!, m[at + 2]!, AtomicOp.CMPXCHG, reg(m[at + 5], m[at + 6]));
}

type FieldName = "code" | "dst" | "src" | "off" | "imm" | "imm2";
const FIELD_RANGE: Readonly<Record<FieldName, readonly [number, number]>> = {
  code: [0, 0xff],
  dst: [0, 15],
  src: [0, 15],
  off: [-0x8000, 0xffff],
  imm: [-0x80000000, 0xffffffff],
  imm2: [-0x80000000, 0xffffffff],
};

/** `src=1 imm2=0x8` -> fields, or undefined when the comment is an ordinary one. */
function parseFieldComment(comment: string): Partial<Record<FieldName, number>> | undefined {
  const words = comment.trim().split(/\s+/);
  if (words.length === 0 || words[0] === "") return undefined;
  const out: Partial<Record<FieldName, number>> = {};
  for (const w of words) {
    const m = /^(code|dst|src|off|imm|imm2)=([+-]?(?:0x[0-9a-fA-F]+|\d+))$/.exec(w);
    if (!m) return undefined;
    const name = m[1] as FieldName;
    const [min, max] = FIELD_RANGE[name];
    let v = num(m[2]!, min, max, name);
    if (name === "off") v = (v << 16) >> 16;
    if (name === "imm" || name === "imm2") v |= 0;
    out[name] = v;
  }
  return out;
}

/** Splits a source line into statement and comment. ` #` starts a comment; `name#1` does not. */
function splitComment(line: string): { body: string; comment: string | undefined } {
  const m = /;|\/\/|(?:^|\s)#/.exec(line);
  if (!m) return { body: line, comment: undefined };
  const start = m[0].endsWith("#") ? m.index + m[0].length - 1 : m.index;
  return { body: line.slice(0, start), comment: line.slice(start + (m[0] === "//" ? 2 : 1)) };
}

const LABEL = /^([A-Za-z_.$][\w.$]*)\s*:\s*(.*)$/;
const OBJDUMP_SYMBOL = /^[0-9a-fA-F]+\s+<([^>]+)>:$/;
const ADDRESS = /^\d+:\s*/;
const RAW_BYTES = /^[0-9a-f]{2}(?: [0-9a-f]{2}){7}(?:(?: [0-9a-f]{2}){8})?(?:\s+|$)/;
const KERNEL_OPCODE = /^\(([0-9a-fA-F]{2})\)\s*/;
const IGNORED = [
  /^.*:\s+file format\s+\S+$/, // llvm-objdump banner
  /^Disassembly of section .*:$/,
  /^[0-9a-fA-F]+:\s+R_BPF_\w+\s+\S+$/, // llvm-objdump -r relocation lines
  /^\.\.\.$/,
];

/** Parses the statement part of one line (no labels, comments or prefixes). */
function parseStatement(body: string): Draft {
  const text = body.replace(/\s+<[^<>]*>$/, "").trim(); // objdump's ` <f+0x60>` jump comment
  for (const [re, build] of RULES) {
    const m = re.exec(text);
    if (m) return build(m);
  }
  return fail(`cannot parse "${text}"`);
}

/**
 * Assemble LLVM / kernel-syntax eBPF assembly into instructions (lddw as one 16-byte instruction).
 * Throws ParseError naming `file:line` and the reason.
 */
export function assembleLlvm(text: string, file?: string): Instruction[] {
  const drafts: { draft: Draft; line: number }[] = [];
  const labels = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  let slot = 0;
  for (let i = 0; i < lines.length; i++) {
    try {
      const { body: rawBody, comment } = splitComment(lines[i]!);
      let body = rawBody.trim();
      const fields = comment !== undefined ? parseFieldComment(comment) : undefined;
      if (body === "" && fields) fail("field assignments need an instruction");
      if (body === "" || IGNORED.some((re) => re.test(body))) continue;
      const symbol = OBJDUMP_SYMBOL.exec(body);
      if (symbol) {
        defineLabel(labels, symbol[1]!, slot);
        continue;
      }
      body = body.replace(ADDRESS, "").replace(RAW_BYTES, "");
      const label = LABEL.exec(body);
      if (label) {
        defineLabel(labels, label[1]!, slot);
        body = label[2]!.trim();
        if (body === "") continue;
      }
      const kernelOpcode = KERNEL_OPCODE.exec(body);
      if (kernelOpcode) body = body.slice(kernelOpcode[0].length);
      let draft: Draft;
      if (isComplete(fields)) {
        // Every field is given: the text (`<unknown>`, the kernel's `BUG_ldx_51`) only informs.
        draft = insn(0);
      } else {
        if (body === "<unknown>")
          fail("<unknown> needs all its fields (; code=0x.. dst=.. src=.. off=.. imm=..)");
        draft = parseStatement(body);
        if (kernelOpcode) draft = reconcileKernelOpcode(draft, parseInt(kernelOpcode[1]!, 16));
      }
      if (fields) draft = { ...draft, ...fields };
      if (draft.code === LDDW) draft = { ...draft, imm2: draft.imm2 ?? 0 };
      else delete draft.imm2;
      drafts.push({ draft, line: i + 1 });
      slot += draft.code === LDDW ? 2 : 1;
    } catch (e) {
      if (e instanceof LineError) throw new ParseError(e.message, file, i + 1);
      throw e;
    }
  }
  const out: Instruction[] = [];
  slot = 0;
  for (const { draft, line } of drafts) {
    const next = slot + (draft.code === LDDW ? 2 : 1);
    const { target, ...fields } = draft;
    let done: Instruction = fields;
    if (target) {
      const at = labels.get(target.label);
      if (at === undefined) throw new ParseError(`unknown label ${target.label}`, file, line);
      const rel = at - next;
      if (target.field === "off" && (rel < -0x8000 || rel > 0x7fff))
        throw new ParseError(`jump to ${target.label} too far for a 16-bit offset (${rel})`, file, line);
      done = { ...fields, [target.field]: rel };
    }
    out.push(done);
    slot = next;
  }
  return out;
}

function isComplete(fields: Partial<Record<FieldName, number>> | undefined): boolean {
  return (
    fields !== undefined &&
    fields.code !== undefined &&
    fields.dst !== undefined &&
    fields.src !== undefined &&
    fields.off !== undefined &&
    fields.imm !== undefined &&
    (fields.code !== LDDW || fields.imm2 !== undefined)
  );
}

function defineLabel(labels: Map<string, number>, name: string, slot: number): void {
  if (labels.has(name) && labels.get(name) !== slot) fail(`label ${name} defined twice`);
  labels.set(name, slot);
}

/**
 * The kernel prints `(18) r1 = 0x2a` for a 64-bit load and `(b7) r1 = 42` for a move: the
 * opcode in parentheses decides; any other disagreement is an error.
 */
function reconcileKernelOpcode(draft: Draft, code: number): Draft {
  if (draft.code === code) return draft;
  if (code === LDDW && draft.code === (Class.ALU64 | AluOp.MOV | Source.K))
    return lddw(draft.dst, 0, BigInt(draft.imm >>> 0));
  if (code === LDDW && draft.code === LDDW) return draft;
  return fail(
    `opcode (${code.toString(16).padStart(2, "0")}) does not match the instruction (${draft.code.toString(16).padStart(2, "0")})`,
  );
}

/**
 * The fields that one instruction's text determines (no labels, comments or address prefixes;
 * a kernel `(xx)` opcode prefix is honoured), or undefined if the text does not parse alone.
 * Used by the disassembler to find what its text leaves out.
 */
export function parseInstructionText(text: string): Instruction | undefined {
  try {
    let body = text.trim();
    const kernelOpcode = KERNEL_OPCODE.exec(body);
    if (kernelOpcode) body = body.slice(kernelOpcode[0].length);
    let draft = parseStatement(body);
    if (kernelOpcode) draft = reconcileKernelOpcode(draft, parseInt(kernelOpcode[1]!, 16));
    if (draft.target) return undefined;
    const { target: _target, ...fields } = draft;
    return fields.code === LDDW ? { ...fields, imm2: fields.imm2 ?? 0 } : fields;
  } catch (e) {
    if (e instanceof LineError) return undefined;
    throw e;
  }
}
