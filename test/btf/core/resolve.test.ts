import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CoreReloKind as K,
  CoreRelocationError,
  CORE_POISON_CALL,
  CORE_POISON_LDDW,
  essentialName,
  isPoisonedInstruction,
  resolveCoreRelocations,
  type Btf,
  type CoreRelo,
  type LineInfo,
} from "../../../src/btf/index.js";
import type { Instruction } from "../../../src/isa/index.js";
import { btfOf, exit, lddw, ldx, member as m, mov, relo } from "./helpers.js";

// The object's view of the types (what clang saw).
const local: Btf = btfOf(
  [
    /* 1 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    /* 2 */ { kind: "int", name: "unsigned int", size: 4, encoding: 0, bitOffset: 0, bits: 32 },
    /* 3 */ { kind: "int", name: "long", size: 8, encoding: 1, bitOffset: 0, bits: 64 },
    /* 4 */ {
      kind: "struct",
      name: "s",
      size: 32,
      members: [m("a", 1, 0), m("b", 1, 32), m("u", 2, 64), m("sf", 1, 96), m("arr", 5, 128)],
    },
    /* 5 */ { kind: "array", elementId: 1, indexId: 2, length: 4 },
    /* 6 */ { kind: "struct", name: "s___v1", size: 4, members: [m("b", 1, 0)] },
    /* 7 */ {
      kind: "enum",
      name: "e",
      size: 4,
      values: [
        { name: "E_ONE", value: 1 },
        { name: "E_TWO", value: 2 },
      ],
    },
    /* 8 */ { kind: "struct", name: "nosuch", size: 4, members: [m("x", 1, 0)] },
    /* 9 */ { kind: "struct", name: "m", size: 4, members: [m("a", 1, 0)] },
    /* 10 */ { kind: "struct", name: "m___long", size: 8, members: [m("a", 3, 0)] },
    /* 11 */ { kind: "struct", name: "flex", size: 4, members: [m("n", 1, 0), m("data", 12, 32)] },
    /* 12 */ { kind: "array", elementId: 1, indexId: 2, length: 0 },
    /* 13 */ { kind: "struct", name: "bf", size: 4, members: [m("x", 2, 0, 3), m("y", 2, 3, 5)] },
    /* 14 */ { kind: "struct", name: "", size: 4, members: [m("x", 1, 0)] },
  ],
  "local.btf",
);

// The kernel's view: fields moved, a member inside an anonymous union, wider fields, enum64.
const target: Btf = btfOf(
  [
    /* 1 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    /* 2 */ { kind: "int", name: "unsigned int", size: 4, encoding: 0, bitOffset: 0, bits: 32 },
    /* 3 */ { kind: "int", name: "long", size: 8, encoding: 1, bitOffset: 0, bits: 64 },
    /* 4 */ { kind: "int", name: "unsigned long long", size: 8, encoding: 0, bitOffset: 0, bits: 64 },
    /* 5 */ {
      kind: "struct",
      name: "s",
      size: 72,
      members: [
        m("x", 3, 0),
        m("a", 1, 64),
        m("", 6, 128),
        m("u", 4, 192),
        m("sf", 3, 256),
        m("arr", 7, 320),
      ],
    },
    /* 6 */ { kind: "union", name: "", size: 8, members: [m("c", 3, 0), m("b", 1, 0)] },
    /* 7 */ { kind: "array", elementId: 1, indexId: 2, length: 8 },
    /* 8 */ {
      kind: "enum64",
      name: "e",
      size: 8,
      values: [
        { name: "E_TWO", value: 0x100000002n },
        { name: "E_ONE", value: 1n },
      ],
    },
    /* 9 */ { kind: "struct", name: "m", size: 8, members: [m("a", 1, 0), m("b", 1, 32)] },
    /* 10 */ {
      kind: "struct",
      name: "flex",
      size: 8,
      members: [m("pad", 1, 0), m("n", 1, 32), m("data", 11, 64)],
    },
    /* 11 */ { kind: "array", elementId: 1, indexId: 2, length: 0 },
    /* 12 */ {
      kind: "struct",
      name: "bf",
      size: 8,
      members: [m("pad", 2, 0, 30), m("y", 2, 30, 5), m("x", 2, 35, 3)],
    },
  ],
  "target.btf",
);

const lineInfo: LineInfo[] = [
  {
    insnOff: 0,
    fileName: "prog.bpf.c",
    line: "\tint v = s->b;",
    lineNumber: 12,
    column: 2,
    fileNameOff: 0,
    lineOff: 0,
  },
  {
    insnOff: 16,
    fileName: "prog.bpf.c",
    line: "\treturn v;",
    lineNumber: 13,
    column: 2,
    fileNameOff: 0,
    lineOff: 0,
  },
];

/** Resolves relocations of one instruction each (relocation i patches instruction i). */
function run(pairs: [Instruction, Omit<CoreRelo, "insnOff">][], targetBtf = target) {
  const instructions: Instruction[] = [];
  const relos: CoreRelo[] = [];
  let slot = 0;
  for (const [insn, r] of pairs) {
    relos.push({ ...r, insnOff: slot * 8 });
    instructions.push(insn);
    slot += insn.code === 0x18 ? 2 : 1;
  }
  instructions.push(exit);
  return resolveCoreRelocations({
    localBtf: local,
    targetBtf,
    relos,
    instructions,
    programName: "prog",
    lineInfo,
  });
}
const r = (typeId: number, accessStr: string, kind: K): Omit<CoreRelo, "insnOff"> => {
  const { insnOff: _, ...rest } = relo(0, typeId, accessStr, kind);
  return rest;
};

test("essential names drop the last ___flavor", () => {
  assert.equal(essentialName("task_struct___pre514"), "task_struct");
  assert.equal(essentialName("a___b___c"), "a___b");
  assert.equal(essentialName("task_struct"), "task_struct");
  assert.equal(essentialName("____fput"), "____fput");
  assert.equal(essentialName("x____y"), "x____y"); // four underscores: no X___Y with Y not '_'
  assert.equal(essentialName("nf_conn___init"), "nf_conn");
});

test("a field that moved gets the target offset in mov, ldx and through an anonymous union", () => {
  const out = run([
    [mov(4), r(4, "0:1", K.FieldByteOffset)],
    [ldx(4), r(4, "0:1", K.FieldByteOffset)],
    [ldx(0), r(4, "0:0", K.FieldByteOffset)],
  ]);
  assert.deepEqual(
    out.instructions.slice(0, 3).map((i) => [i.code, i.off, i.imm]),
    [
      [0xb7, 0, 16],
      [0x61, 16, 0],
      [0x61, 8, 0],
    ],
  );
  const b = out.results[0]!;
  assert.equal(b.access, "struct s.b");
  assert.equal(b.localSpec, "[4] struct s.b (0:1 @ offset 4)");
  assert.equal(b.targetSpec, "[5] struct s.b (0:2:1 @ offset 16)");
  assert.equal(b.localValue, 4n);
  assert.equal(b.value, 16n);
  assert.deepEqual(b.source, { file: "prog.bpf.c", line: 12, column: 2, text: "int v = s->b;" });
  assert.equal(out.poisoned.length, 0);
});

test("load size follows an unsigned field that grew; a signed one poisons the load", () => {
  const out = run([
    [ldx(8), r(4, "0:2", K.FieldByteOffset)],
    [ldx(12), r(4, "0:3", K.FieldByteOffset)],
    [mov(12), r(4, "0:3", K.FieldByteOffset)],
    [mov(4), r(4, "0:3", K.FieldByteSize)],
    [mov(1), r(4, "0:3", K.FieldSigned)],
  ]);
  const [u, sfLoad, sfMov, sfSize, sfSigned] = out.instructions;
  assert.deepEqual([u!.code, u!.off], [0x79, 24]); // ldxw -> ldxdw
  assert.deepEqual(sfLoad, CORE_POISON_CALL);
  assert.match(out.results[1]!.missing!, /4 bytes locally and 8 in the target/);
  assert.equal(sfMov!.imm, 32); // ALU offsets are fine whatever the size
  assert.equal(sfSize!.imm, 8);
  assert.equal(sfSigned!.imm, 1);
  assert.deepEqual(
    out.poisoned.map((p) => p.instruction),
    [1],
  );
  assert.match(
    out.poisoned[0]!.error!.message,
    /^prog 'prog': CO-RE relocation #1 <byte_off> at insn 1 .*struct s\.sf: /,
  );
});

test("array elements, flexible arrays and ___flavor structs", () => {
  const out = run([
    [mov(24), r(4, "0:4:2", K.FieldByteOffset)],
    [mov(4), r(4, "0:4:2", K.FieldByteSize)],
    [mov(24), r(11, "0:1:5", K.FieldByteOffset)],
    [mov(0), r(6, "0:0", K.FieldByteOffset)],
  ]);
  assert.deepEqual(
    out.instructions.slice(0, 4).map((i) => i.imm),
    [48, 4, 28, 16],
  );
  assert.equal(out.results[0]!.access, "struct s.arr[2]");
  assert.equal(out.results[2]!.targetSpec, "[10] struct flex.data[5] (0:2:5 @ offset 28)");
  assert.equal(out.results[3]!.access, "struct s___v1.b");
  assert.equal(out.results[3]!.targetSpec, "[5] struct s.b (0:2:1 @ offset 16)");
});

test("type relocations: size, ids (lddw), existence, TYPE_MATCHES", () => {
  const out = run([
    [mov(32), r(4, "0", K.TypeSize)],
    [lddw(4n), r(4, "0", K.TypeIdTarget)],
    [lddw(4n), r(4, "0", K.TypeIdLocal)],
    [mov(1), r(4, "0", K.TypeExists)],
    [mov(1), r(8, "0", K.TypeExists)],
    [mov(1), r(9, "0", K.TypeMatches)],
    [mov(1), r(10, "0", K.TypeMatches)],
  ]);
  const v = out.results.map((x) => x.value);
  assert.deepEqual(v, [72n, 5n, 4n, 1n, 0n, 1n, 0n]);
  assert.equal(out.instructions[1]!.imm, 5);
  assert.equal(out.instructions[1]!.imm2, 0);
  assert.match(out.results[4]!.missing!, /no struct named 'nosuch' in target\.btf/);
  assert.match(out.results[6]!.missing!, /struct m does not match local struct m___long/);
  assert.equal(out.poisoned.length, 0, "missing types give 0, they do not poison");
});

test("enumerators: 64-bit target values through lddw, missing ones poison the value load", () => {
  const out = run([
    [lddw(2n), r(7, "1", K.EnumvalValue)],
    [mov(1), r(7, "0", K.EnumvalExists)],
  ]);
  assert.equal(out.results[0]!.value, 0x100000002n);
  assert.deepEqual([out.instructions[0]!.imm, out.instructions[0]!.imm2], [2, 1]);
  assert.equal(out.results[0]!.access, "enum e::E_TWO");
  assert.equal(out.results[0]!.targetSpec, "[8] enum64 e::E_TWO = 4294967298");
  const other = btfOf(
    [{ kind: "enum", name: "e___x", size: 4, values: [{ name: "E_THREE", value: 3 }] }],
    "other.btf",
  );
  const missing = run([[lddw(2n), r(7, "1", K.EnumvalValue)]], other);
  assert.deepEqual(missing.instructions[0], CORE_POISON_LDDW);
  assert.ok(isPoisonedInstruction(missing.instructions[0]!));
  assert.equal(missing.instructions.length, 2, "a poisoned lddw keeps its place and its two slots");
  assert.match(missing.results[0]!.missing!, /no enumerator 'E_TWO' in enum e___x/);
});

test("bitfields: byte offset, size and shifts from the target layout (widened load across 32 bits)", () => {
  const out = run([
    [mov(0), r(13, "0:1", K.FieldByteOffset)],
    [mov(4), r(13, "0:1", K.FieldByteSize)],
    [mov(56), r(13, "0:1", K.FieldLShiftU64)],
    [mov(59), r(13, "0:1", K.FieldRShiftU64)],
    [mov(0), r(13, "0:1", K.FieldSigned)],
    [mov(61), r(13, "0:0", K.FieldLShiftU64)],
  ]);
  // y: 5 bits at bit 30 of an unsigned int: needs an 8-byte load at 0
  assert.deepEqual(
    out.results.map((x) => x.value),
    [0n, 8n, 64n - 35n, 59n, 0n, 64n - (35n + 3n - 32n)],
  );
  // the shifts extract the field from the loaded 64-bit word
  const word = (0b10110n << 30n) | (0b101n << 35n) | 0x3fffffffn;
  const extract = (lshift: bigint, rshift: bigint) => BigInt.asUintN(64, word << lshift) >> rshift;
  assert.equal(extract(out.results[2]!.value, out.results[3]!.value), 0b10110n & 0b11111n);
});

test("field_exists: incompatible and missing fields give 0, reads of them are poisoned", () => {
  const inner = btfOf(
    [
      /* 1 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
      /* 2 */ { kind: "struct", name: "inner", size: 4, members: [m("z", 1, 0)] },
      /* 3 */ { kind: "struct", name: "s", size: 4, members: [m("a", 2, 0)] },
    ],
    "inner.btf",
  );
  const out = run(
    [
      [mov(1), r(4, "0:0", K.FieldExists)],
      [mov(1), r(4, "0:1", K.FieldExists)],
      [ldx(4), r(4, "0:1", K.FieldByteOffset)],
    ],
    inner,
  );
  assert.deepEqual(
    out.results.map((x) => [x.value, x.poisoned]),
    [
      [0n, false],
      [0n, false],
      [0n, true],
    ],
  );
  assert.match(
    out.results[0]!.missing!,
    /field 'a' of struct s has type struct inner, incompatible with local int/,
  );
  assert.equal(out.results[1]!.missing, "no field 'b' in struct s");
  const e = out.poisoned[0]!.error!;
  assert.ok(e instanceof CoreRelocationError);
  assert.equal(
    e.message,
    "prog 'prog': CO-RE relocation #2 <byte_off> at insn 2 (prog.bpf.c:13 \"return v;\"): " +
      "struct s.b: no field 'b' in struct s (the instruction was poisoned and ran)",
  );
});

test("candidates that disagree are an ambiguity error", () => {
  const two = btfOf(
    [
      /* 1 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
      /* 2 */ { kind: "struct", name: "s", size: 8, members: [m("a", 1, 0), m("b", 1, 32)] },
      /* 3 */ { kind: "struct", name: "s___2", size: 4, members: [m("b", 1, 0)] },
      /* 4 */ { kind: "struct", name: "s___3", size: 8, members: [m("a", 1, 0), m("b", 1, 32)] },
    ],
    "two.btf",
  );
  assert.throws(
    () => run([[mov(4), r(4, "0:1", K.FieldByteOffset)]], two),
    (e: unknown) =>
      e instanceof CoreRelocationError &&
      /^prog 'prog': CO-RE relocation #0 <byte_off> at insn 0 \(prog\.bpf\.c:12 "int v = s->b;"\): struct s\.b: field offset ambiguity: \[2\] struct s\.b \(0:1 @ offset 4\) and \[3\] struct s___2\.b \(0:0 @ offset 0\)/.test(
        e.message,
      ),
  );
  // candidates that agree are fine: s and s___3 both put a at 0
  const out = run([[mov(0), r(4, "0:0", K.FieldByteOffset)]], two);
  assert.equal(out.results[0]!.value, 0n);
});

test("bad instructions and access strings are errors naming program, line and access", () => {
  const bad = (pairs: [Instruction, Omit<CoreRelo, "insnOff">][], re: RegExp) =>
    assert.throws(
      () => run(pairs),
      (e: unknown) => e instanceof CoreRelocationError && e.details.program === "prog" && re.test(e.message),
    );
  bad(
    [[mov(99), r(4, "0:1", K.FieldByteOffset)]],
    /struct s\.b: cannot patch insn 0: ALU immediate is 99, expected 4$/,
  );
  bad([[ldx(6), r(4, "0:1", K.FieldByteOffset)]], /memory offset is 6, expected 4/);
  bad([[exit, r(4, "0:1", K.FieldByteOffset)]], /instruction of class JMP .* cannot be relocated/);
  bad([[mov(4), r(4, "0:9", K.FieldByteOffset)]], /member index 9 of access string '0:9' out of range/);
  bad([[mov(4), r(4, "0:x", K.FieldByteOffset)]], /bad access string '0:x'/);
  bad([[mov(4), r(4, "0:4:7", K.FieldByteOffset)]], /array index 7 .* out of range/);
  bad([[mov(1), r(4, "0:1", K.TypeExists)]], /type relocation with access string '0:1'/);
  bad([[mov(0), r(14, "0:0", K.FieldByteOffset)]], /anonymous struct is not supported/);
  bad([[mov(0), r(4, "0:4:1", K.FieldSigned)]], /cannot be applied to an array element/);
  assert.throws(
    () =>
      resolveCoreRelocations({
        localBtf: local,
        targetBtf: target,
        relos: [{ ...relo(0, 4, "0:1", K.FieldByteOffset), insnOff: 12 }],
        instructions: [mov(4), exit],
        programName: "prog",
      }),
    /instruction offset 12 is not the start of an instruction/,
  );
});
