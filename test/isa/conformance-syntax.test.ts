import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ParseError } from "../../src/errors.js";
import { assembleConformance } from "../../src/isa/asm/conformance.js";
import { parseConformanceData } from "../../src/isa/asm/conformance-data.js";
import { disassembleConformance, DisassemblyError } from "../../src/isa/disasm/conformance.js";
import { encode } from "../../src/isa/codec.js";
import type { Instruction } from "../../src/isa/instruction.js";
import { Class, JumpOp, LDDW, PseudoCall, PseudoLd } from "../../src/isa/opcodes.js";
import { checkInstruction, OPCODE_RULES, type OpcodeRule } from "../../src/isa/validity.js";

/** The conformance suite in the shared material, found from the source tree or from dist/. */
function suiteDir(): URL {
  const roots = process.env.TSBPF_SHARED
    ? [pathToFileURL(process.env.TSBPF_SHARED.replace(/\/?$/, "/"))]
    : [new URL("../../../shared/", import.meta.url), new URL("../../../../shared/", import.meta.url)];
  const found = roots.map((r) => new URL("conformance/bpf_conformance/", r)).find((u) => existsSync(u));
  if (!found) throw new Error("conformance suite not found: set TSBPF_SHARED");
  return found;
}
const shared = suiteDir();

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const bytesOf = (text: string) => hex(encode(assembleConformance(text)));
const clean = (s: string) => s.replace(/\s+/g, "");

/** Text -> exact bytes, one vector per instruction family (bytes written by hand from the ISA). */
const VECTORS: [string, string][] = [
  // ALU / ALU64, immediate and register sources
  ["mov32 %r0, 0", "b4000000 00000000"],
  ["mov %r1, -1", "b7010000 ffffffff"],
  ["mov64 %r1, -1", "b7010000 ffffffff"],
  ["add32 %r0, %r1", "0c100000 00000000"],
  ["add %r0, 0x7fffffff", "07000000 ffffff7f"],
  ["sub %r3, %r4", "1f430000 00000000"],
  ["mul32 %r1, 7", "24010000 07000000"],
  ["div %r1, %r2", "3f210000 00000000"],
  ["or %r0, %r10", "4f a0 0000 00000000"],
  ["and32 %r5, 0xff", "54050000 ff000000"],
  ["lsh %r1, 3", "67010000 03000000"],
  ["rsh32 %r1, %r2", "7c210000 00000000"],
  ["mod32 %r1, 3", "94010000 03000000"],
  ["xor %r9, %r8", "af890000 00000000"],
  ["arsh32 %r0, 0xffffff80", "c4000000 80ffffff"],
  ["arsh %r0, -2147483648", "c7000000 00000080"],
  ["sdiv32 %r1, -3", "34010100 fdffffff"],
  ["sdiv %r1, %r2", "3f210100 00000000"],
  ["smod %r1, %r2", "9f210100 00000000"],
  ["smod32 %r1, 5", "94010100 05000000"],
  ["neg %r2", "87020000 00000000"],
  ["neg32 %r2", "84020000 00000000"],
  ["movsx832 %r0, %r1", "bc100800 00000000"],
  ["movsx1632 %r0, %r1", "bc101000 00000000"],
  ["movsx864 %r0, %r1", "bf100800 00000000"],
  ["movsx1664 %r0, %r1", "bf101000 00000000"],
  ["movsx3264 %r0, %r1", "bf102000 00000000"],
  // byte swaps
  ["le16 %r3", "d4030000 10000000"],
  ["le64 %r3", "d4030000 40000000"],
  ["be32 %r3", "dc030000 20000000"],
  ["be64 %r3", "dc030000 40000000"],
  ["swap16 %r3", "d7030000 10000000"],
  ["bswap32 %r3", "d7030000 20000000"],
  ["swap64 %r3", "d7030000 40000000"],
  // jumps
  ["jset %r1, 0x80000000, +1", "45010100 00000080"],
  ["jeq %r1, 5, -3", "1501fdff 05000000"],
  ["jne32 %r2, %r3, +0", "5e320000 00000000"],
  ["jslt32 %r1, %r2, -1", "ce21ffff 00000000"],
  ["jsle %r1, -1, +2", "d5010200 ffffffff"],
  ["jgt32 %r0, 0xffffffff, +4", "26000400 ffffffff"],
  ["jge %r1, 2, +1", "35010100 02000000"],
  ["jge32 %r1, %r2, +1", "3e210100 00000000"],
  ["jsgt %r1, %r2, +1", "6d210100 00000000"],
  ["jsge32 %r1, -2, -2", "7601feff feffffff"],
  ["jlt %r1, %r2, +1", "ad210100 00000000"],
  ["jle32 %r1, 9, +1", "b6010100 09000000"],
  ["ja +3", "05000300 00000000"],
  ["ja -32768", "05000080 00000000"],
  ["ja32 -2", "06000000 feffffff"],
  ["gotol +100000", "06000000 a0860100"],
  ["may_goto +4", "e5000400 00000000"],
  ["exit", "95000000 00000000"],
  // calls
  ["call 5", "85000000 05000000"],
  ["call helper 5", "85000000 05000000"],
  ["call %r2", "8d020000 00000000"],
  ["call helper %r4", "8d040000 00000000"],
  ["callx %r3", "8d030000 00000000"],
  ["call local +7", "85100000 07000000"],
  ["call local -1", "85100000 ffffffff"],
  ["call runtime 0x1234", "85200000 34120000"],
  ["call kfunc 0x1234, 2", "85200200 34120000"],
  // loads and stores
  ["ldxb %r0, [%r1]", "71100000 00000000"],
  ["ldxh %r0, [%r1+2]", "69100200 00000000"],
  ["ldxw %r0, [%r1+0x10]", "61101000 00000000"],
  ["ldxdw %r0, [%r2-16]", "7920f0ff 00000000"],
  ["ldxsb %r0, [%r10-1]", "91a0ffff 00000000"],
  ["ldxsh %r0, [%r10-2]", "89a0feff 00000000"],
  ["ldxsw %r0, [%r10-4]", "81a0fcff 00000000"],
  ["stb [%r10-1], 0x80", "720affff 80000000"],
  ["sth [%r10-2], 0x1234", "6a0afeff 34120000"],
  ["stw [%r1], -5", "62010000 fbffffff"],
  ["stdw [%r10-8], -1", "7a0af8ff ffffffff"],
  ["stxb [%r1+1], %r2", "73210100 00000000"],
  ["stxh [%r1+2], %r2", "6b210200 00000000"],
  ["stxw [%r1+0x10], %r2", "63211000 00000000"],
  ["stxdw [%r10-8], %r0", "7b0af8ff 00000000"],
  ["ldxb %r0, [%r1+32767]", "7110ff7f 00000000"],
  ["ldxb %r0, [%r1-32768]", "71100080 00000000"],
  // atomics
  ["lock add [%r10-8], %r1", "db1af8ff 00000000"],
  ["lock add32 [%r10-4], %r1", "c31afcff 00000000"],
  ["lock fetch add32 [%r10-4], %r1", "c31afcff 01000000"],
  ["lock or32 [%r10-8], %r1", "c31af8ff 40000000"],
  ["lock fetch or [%r10-8], %r3", "db3af8ff 41000000"],
  ["lock and [%r10-8], %r1", "db1af8ff 50000000"],
  ["lock fetch and32 [%r10-8], %r1", "c31af8ff 51000000"],
  ["lock xor [%r10-8], %r1", "db1af8ff a0000000"],
  ["lock fetch xor [%r10-8], %r1", "db1af8ff a1000000"],
  ["lock xchg [%r10-8], %r1", "db1af8ff e1000000"],
  ["lock xchg32 [%r10-8], %r1", "c31af8ff e1000000"],
  ["lock cmpxchg [%r10-8], %r1", "db1af8ff f1000000"],
  ["lock cmpxchg32 [%r10-8], %r1", "c31af8ff f1000000"],
  ["ldxacqb %r0, [%r1+4]", "d3100400 00010000"],
  ["ldxacqh %r0, [%r1]", "cb100000 00010000"],
  ["ldxacqw %r0, [%r1]", "c3100000 00010000"],
  ["ldxacqdw %r0, [%r1]", "db100000 00010000"],
  ["stxrelb [%r1], %r2", "d3210000 10010000"],
  ["stxreldw [%r1-8], %r2", "db21f8ff 10010000"],
  // legacy packet loads
  ["ldabsb 0x17", "30000000 17000000"],
  ["ldabsh 12", "28000000 0c000000"],
  ["ldabsw 0", "20000000 00000000"],
  ["ldindb %r2, 1", "50200000 01000000"],
  ["ldindh %r2, 1", "48200000 01000000"],
  ["ldindw %r1, 4", "40100000 04000000"],
  // lddw and its pseudo sources
  ["lddw %r0, 0x123456789abcdef0", "18000000 f0debc9a 00000000 78563412"],
  ["lddw %r1, -1", "18010000 ffffffff 00000000 ffffffff"],
  ["lddw %r0, 2147483648", "18000000 00000080 00000000 00000000"],
  ["lddw %r0, 0xFFFFFFFF80000000", "18000000 00000080 00000000 ffffffff"],
  ["lddw %r1, map_fd 3", "18110000 03000000 00000000 00000000"],
  ["lddw %r1, map_value 3, 16", "18210000 03000000 00000000 10000000"],
  ["lddw %r2, btf_id 77", "18320000 4d000000 00000000 00000000"],
  ["lddw %r2, func +3", "18420000 03000000 00000000 00000000"],
  ["lddw %r1, map_idx 0", "18510000 00000000 00000000 00000000"],
  ["lddw %r1, map_idx_value 1, 8", "18610000 01000000 00000000 08000000"],
];

test("every instruction family assembles to the expected bytes", () => {
  for (const [text, want] of VECTORS) assert.equal(bytesOf(text), clean(want), text);
});

/** Opcode family: the operation for ALU/JMP classes, class and mode for loads and stores. */
const family = (code: number) => {
  const cls = (code & 7) as Class;
  if (cls === Class.ALU || cls === Class.ALU64) return `alu:${code & 0xf0}`;
  if (cls === Class.JMP || cls === Class.JMP32) return `jmp:${code & 0xf0}`;
  return `${cls}:${code & 0xe0}`;
};

test("the vectors cover every opcode family, every class and every size", () => {
  const codes = VECTORS.map(([text]) => assembleConformance(text)[0]!.code);
  const covered = new Set(codes.map(family));
  const missing = OPCODE_RULES.flatMap((rule, code) =>
    rule && !covered.has(family(code)) ? [code.toString(16)] : [],
  );
  assert.deepEqual(missing, []);
  assert.equal(new Set(codes.map((c) => c & 7)).size, 8);
  assert.equal(new Set(codes.filter((c) => (c & 7) <= Class.STX).map((c) => c & 0x18)).size, 4);
});

test("labels, comments, blank lines, label+instruction lines and CRLF", () => {
  const text = [
    "# leading comment",
    "  jeq %r1, 0x5, done   # trailing comment",
    "",
    "lddw %r0, 1",
    "ja done",
    "done: exit",
    "call local f",
    "f:",
    "gotol f",
    "lddw %r3, func f",
  ].join("\r\n");
  const p = assembleConformance(text);
  assert.equal(p[0]!.off, 3); // slot 0 -> slot 4 (lddw counts 2)
  assert.equal(p[2]!.off, 0);
  assert.equal(p[4]!.imm, 0); // call local at slot 5, f at slot 6
  assert.equal(p[4]!.src, PseudoCall.CALL);
  assert.equal(p[5]!.imm, -1); // gotol at slot 6 back to itself
  assert.equal(p[6]!.imm, -2); // lddw func at slot 7
  assert.equal(p[6]!.src, PseudoLd.FUNC);
});

test("'exit' names the first exit unless a label exit: is defined", () => {
  const implicit = assembleConformance("jne %r0, 0, exit\nmov %r0, 1\nexit\nexit");
  assert.equal(implicit[0]!.off, 1);
  const explicit = assembleConformance("jne %r0, 0, exit\nexit\nexit:\nexit");
  assert.equal(explicit[0]!.off, 1);
});

function assertParseError(text: string, line: number, reason: RegExp) {
  assert.throws(
    () => assembleConformance(text, "t.asm"),
    (e: unknown) =>
      e instanceof ParseError &&
      e.file === "t.asm" &&
      e.line === line &&
      reason.test(e.reason) &&
      e.message.startsWith(`t.asm:${line}: `),
  );
}

test("bad input is a ParseError naming file, line and reason", () => {
  assertParseError("exit\nldxq %r0, %r1", 2, /unknown mnemonic 'ldxq'/);
  assertParseError("or %r0, %r50", 1, /invalid register '%r50'/);
  assertParseError("or %r0, %r11", 1, /invalid register '%r11'/);
  assertParseError("mov r0, 1", 1, /invalid register 'r0'/);
  assertParseError("ja NOT_A_LABEL\nexit", 1, /unknown label 'NOT_A_LABEL'/);
  assertParseError("ja 3", 1, /invalid jump target '3'|unknown label '3'/);
  assertParseError("a:\nexit\na:\nexit", 3, /duplicate label 'a' \(first defined on line 1\)/);
  assertParseError("lddw %r0", 1, /'lddw' takes 2 operands/);
  assertParseError("exit %r0", 1, /'exit' takes 0 operands/);
  assertParseError("mov32 %r0, 2147483648", 1, /out of 32-bit range/);
  assertParseError("mov32 %r0, 0x100000000", 1, /out of 32-bit range/);
  assertParseError("mov32 %r0, -2147483649", 1, /out of 32-bit range/);
  assertParseError("lddw %r0, 0x10000000000000000", 1, /out of 64-bit range/);
  assertParseError("ldxb %r0, [%r1+0x10000]", 1, /offset \+0x10000 out of 16-bit/);
  assertParseError("ldxb %r0, [%r1+32768]", 1, /out of 16-bit/);
  assertParseError("ldxb %r0, %r1", 1, /expected a memory operand/);
  assertParseError("ja +32768", 1, /out of 16-bit/);
  assertParseError("mov %r0, 1z", 1, /invalid immediate '1z'/);
  assertParseError("lock or [%r10-8]", 1, /'lock or' takes 2 operands/);
  assertParseError("lock", 1, /'lock' needs an operation/);
  assertParseError("lock nand [%r10-8], %r1", 1, /unknown mnemonic 'lock nand'/);
  assertParseError("movsx832 %r0, 5", 1, /invalid register '5'/);
  assertParseError("movsx3232 %r0, %r1", 1, /unknown mnemonic/);
  assertParseError("ldabsdw 4", 1, /unknown mnemonic 'ldabsdw'/);
  assertParseError("call bogus 1", 1, /unknown call kind 'bogus'/);
  assertParseError("call func1", 1, /is written 'call local func1'/);
  const far = ["ja far", ...Array<string>(32768).fill("exit"), "far: exit"].join("\n");
  assertParseError(far, 1, /out of the 16-bit offset range/);
});

test("all conformance test programs assemble to valid instructions", () => {
  const dir = new URL("tests/", shared);
  const files = readdirSync(dir).filter((f) => f.endsWith(".data"));
  assert.equal(files.length, 313);
  let withRaw = 0;
  for (const f of files) {
    const data = parseConformanceData(readFileSync(new URL(f, dir), "utf8"), f);
    assert.ok(data.asm !== undefined, f);
    const program = assembleConformance(data.asm, f);
    assert.ok(program.length > 0, f);
    for (const insn of program) assert.equal(checkInstruction(insn), undefined, f);
    if (data.raw) {
      withRaw++;
      assert.equal(hex(encode(program)), hex(data.raw), `${f}: asm and raw sections agree`);
    }
  }
  assert.ok(withRaw >= 1);
});

test("negative conformance files with assembly errors are rejected with file:line", () => {
  const dir = new URL("negative/", shared);
  const expect: Record<string, [number, RegExp]> = {
    "invalid_imm32_dec_range.data": [5, /immediate 2147483648 out of 32-bit range/],
    "invalid_imm32_hex_range.data": [5, /immediate 0x100000000 out of 32-bit range/],
    "invalid_label.data": [4, /unknown label 'NOT_A_LABEL'/],
    "invalid_lock.data": [4, /'lock or' takes 2 operands/],
    "invalid_lock2.data": [4, /'lock' needs an operation/],
    "invalid_mnemonic.data": [5, /unknown mnemonic 'ldxq'/],
    "invalid_offset.data": [4, /expected a memory operand/],
    "invalid_offset_range.data": [5, /offset \+0x10000 out of 16-bit signed range/],
    "invalid_operand_count.data": [4, /'lddw' takes 2 operands/],
    "invalid_register.data": [4, /invalid register '%r50'/],
    "invalid_unknown_directive.data": [4, /unknown section '-- Unknown directive'/],
  };
  for (const [f, [line, reason]] of Object.entries(expect)) {
    assert.throws(
      () => {
        const data = parseConformanceData(readFileSync(new URL(f, dir), "utf8"), f);
        assembleConformance(data.asm ?? "", f);
      },
      (e: unknown) => e instanceof ParseError && e.file === f && e.line === line && reason.test(e.reason),
      f,
    );
  }
});

test("round trip: every conformance program, with and without labels", () => {
  const dir = new URL("tests/", shared);
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".data"))) {
    const program = assembleConformance(
      parseConformanceData(readFileSync(new URL(f, dir), "utf8"), f).asm!,
      f,
    );
    const bytes = hex(encode(program));
    for (const labels of [false, true]) {
      const text = disassembleConformance(program, { labels });
      assert.equal(hex(encode(assembleConformance(text, `${f}.dis`))), bytes, `${f} labels=${labels}`);
    }
  }
});

/** Small deterministic PRNG (mulberry32) so that failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInstruction(code: number, rule: OpcodeRule, rand: () => number, small: boolean): Instruction {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const edge = [0, 1, -1, 0x7fff, -0x8000, 0x7fffffff, -0x80000000, 10, -10, 11, -11];
  const pick = (field: OpcodeRule["dst"], bits: 4 | 16 | 32): number => {
    if (field === "zero") return 0;
    if (field === "reg") return int(0, 10);
    if (field !== "any") return field[int(0, field.length - 1)]!;
    if (small) return int(-4, 4);
    if (rand() < 0.2) return edge.filter((v) => v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1))[int(0, 6)]!;
    return int(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1);
  };
  let insn: Instruction = {
    code,
    dst: pick(rule.dst, 4),
    src: pick(rule.src, 4),
    off: pick(rule.off, 16),
    imm: pick(rule.imm, 32),
  };
  if (code === (Class.JMP | JumpOp.CALL) && insn.src !== PseudoCall.KFUNC) insn = { ...insn, off: 0 };
  if (code === LDDW) {
    const wide = [PseudoLd.IMM64, PseudoLd.MAP_VALUE, PseudoLd.MAP_IDX_VALUE].includes(insn.src);
    insn = { ...insn, imm2: wide ? pick("any", 32) : 0 };
  }
  return insn;
}

test("round trip: random valid instructions of every opcode from OPCODE_RULES", () => {
  const rand = rng(0x5eed);
  const program: Instruction[] = [];
  OPCODE_RULES.forEach((rule, code) => {
    if (!rule) return;
    for (let i = 0; i < 40; i++) program.push(randomInstruction(code, rule, rand, false));
  });
  for (const insn of program) assert.equal(checkInstruction(insn), undefined, JSON.stringify(insn));
  const text = disassembleConformance(program);
  assert.equal(hex(encode(assembleConformance(text))), hex(encode(program)));
  // One at a time too, so that a failure names the instruction.
  for (const insn of program.slice(0, 400)) {
    const one = disassembleConformance([insn]);
    assert.equal(hex(encode(assembleConformance(one))), hex(encode([insn])), one);
  }
});

test("round trip with labels: random programs whose jumps land inside the program", () => {
  const rand = rng(42);
  const rules = OPCODE_RULES.flatMap((rule, code) => (rule ? [[code, rule] as const] : []));
  for (let round = 0; round < 30; round++) {
    const program = Array.from({ length: 60 }, () => {
      const [code, rule] = rules[Math.floor(rand() * rules.length)]!;
      return randomInstruction(code, rule, rand, true);
    });
    const text = disassembleConformance(program, { labels: true });
    assert.match(text, /^L\d+:$|^func_\d+:$/m);
    assert.equal(hex(encode(assembleConformance(text))), hex(encode(program)), text);
  }
});

test("disassembly text follows the upstream style", () => {
  const text = disassembleConformance(
    assembleConformance(
      "mov %r0, 10\nmov %r0, 11\nmov %r0, -11\nmov32 %r1, 0x80000000\nldxdw %r0, [%r1]\nstb [%r10-1], 0x80\n" +
        "lock fetch add32 [%r10-4], %r1\nswap16 %r1\ncall 1\ncall %r2\ncall local -1\ncall kfunc 9, 1\n" +
        "lddw %r1, map_value 3, 16\nja32 +0\nexit",
    ),
  );
  assert.equal(
    text,
    "mov %r0, 10\nmov %r0, 0xb\nmov %r0, -11\nmov32 %r1, 0x80000000\nldxdw %r0, [%r1]\nstb [%r10-1], 0x80\n" +
      "lock fetch add32 [%r10-4], %r1\nswap16 %r1\ncall 1\ncall %r2\ncall local -1\ncall runtime 9, 1\n" +
      "lddw %r1, map_value 3, 0x10\nja32 +0\nexit\n",
  );
});

test("disassembling an invalid instruction names its index", () => {
  assert.throws(
    () =>
      disassembleConformance([
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0xff, dst: 0, src: 0, off: 0, imm: 0 },
      ]),
    (e: unknown) => e instanceof DisassemblyError && e.index === 1 && /unknown opcode 0xff/.test(e.message),
  );
});

test("conformance .data sections: raw in both notations, mem, result, error", () => {
  const data = parseConformanceData(
    "# c\n-- asm\nexit\n-- raw\n0x0000000000000095\n95 00 00 00 00 00 00 00\n-- mem\n00 01\nff\n-- result\n0xffffffffffffffff\n-- error\nbad thing\n",
  );
  assert.equal(data.asm, "\n\nexit\n\n\n\n\n\n\n\n\n\n\n");
  assert.equal(hex(data.raw!), "9500000000000000".repeat(2));
  assert.equal(hex(data.mem), "0001ff");
  assert.equal(data.result, 0xffffffffffffffffn);
  assert.equal(data.error, "bad thing");
  assert.equal(parseConformanceData("-- result\n0x0").asm, undefined);
  assert.throws(() => parseConformanceData("-- raw\nzz", "x.data"), /x\.data:2: invalid byte 'zz'/);
});
