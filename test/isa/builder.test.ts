import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleConformance } from "../../src/isa/asm/conformance.js";
import { BuildError, ProgramBuilder, R0, R1, R10, R2, R3, R9, Register } from "../../src/isa/builder.js";
import { encode } from "../../src/isa/codec.js";
import { AtomicOp, Size } from "../../src/isa/opcodes.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const built = (f: (b: ProgramBuilder) => ProgramBuilder) => hex(encode(f(new ProgramBuilder()).build()));
const asm = (text: string) => hex(encode(assembleConformance(text)));

test("the guide's add-42 program is three obvious lines", () => {
  // BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 0), BPF_ALU32_IMM(BPF_ADD, BPF_REG_0, 42), BPF_EXIT_INSN()
  const prog = new ProgramBuilder().ldx(Size.W, R0, R1, 0).add32(R0, 42).exit().build();
  assert.deepEqual(prog, [
    { code: 0x61, dst: 0, src: 1, off: 0, imm: 0 },
    { code: 0x04, dst: 0, src: 0, off: 0, imm: 42 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
  assert.equal(hex(encode(prog)), "6110000000000000" + "040000002a000000" + "9500000000000000");
});

/** Each builder call next to the conformance-dialect text it must encode like. */
const SAME: [(b: ProgramBuilder) => ProgramBuilder, string][] = [
  [
    (b) => b.add(R1, 2).add(R1, R2).add32(R1, -1).add32(R1, R2),
    "add %r1, 2\nadd %r1, %r2\nadd32 %r1, -1\nadd32 %r1, %r2",
  ],
  [
    (b) => b.sub(R1, 2).sub32(R1, R2).mul(R1, 3).mul32(R1, R2),
    "sub %r1, 2\nsub32 %r1, %r2\nmul %r1, 3\nmul32 %r1, %r2",
  ],
  [
    (b) => b.div(R1, 2).div32(R1, R2).sdiv(R1, -3).sdiv32(R1, R2),
    "div %r1, 2\ndiv32 %r1, %r2\nsdiv %r1, -3\nsdiv32 %r1, %r2",
  ],
  [
    (b) => b.mod(R1, 2).mod32(R1, R2).smod(R1, -3).smod32(R1, R2),
    "mod %r1, 2\nmod32 %r1, %r2\nsmod %r1, -3\nsmod32 %r1, %r2",
  ],
  [
    (b) => b.or(R1, 2).or32(R1, R2).and(R1, 0xff).and32(R1, R2),
    "or %r1, 2\nor32 %r1, %r2\nand %r1, 0xff\nand32 %r1, %r2",
  ],
  [
    (b) => b.lsh(R1, 2).lsh32(R1, R2).rsh(R1, 3).rsh32(R1, R2),
    "lsh %r1, 2\nlsh32 %r1, %r2\nrsh %r1, 3\nrsh32 %r1, %r2",
  ],
  [
    (b) => b.arsh(R1, 2).arsh32(R1, R2).xor(R1, 3).xor32(R1, R2),
    "arsh %r1, 2\narsh32 %r1, %r2\nxor %r1, 3\nxor32 %r1, %r2",
  ],
  [
    (b) => b.mov(R1, 0xffffffff).mov(R1, R2).mov32(R1, 7).mov32(R1, R2),
    "mov %r1, -1\nmov %r1, %r2\nmov32 %r1, 7\nmov32 %r1, %r2",
  ],
  [(b) => b.neg(R1).neg32(R2), "neg %r1\nneg32 %r2"],
  [
    (b) => b.movsx(R1, R2, 8).movsx(R1, R2, 16).movsx(R1, R2, 32).movsx32(R1, R2, 8).movsx32(R1, R2, 16),
    "movsx864 %r1, %r2\nmovsx1664 %r1, %r2\nmovsx3264 %r1, %r2\nmovsx832 %r1, %r2\nmovsx1632 %r1, %r2",
  ],
  [
    (b) => b.le(R1, 16).le(R1, 64).be(R1, 32).bswap(R1, 16).bswap(R1, 64),
    "le16 %r1\nle64 %r1\nbe32 %r1\nswap16 %r1\nswap64 %r1",
  ],
  [
    (b) => b.jeq(R1, 5, 1).jgt(R1, R2, 1).jge(R1, 5, 1).jset(R1, R2, 1).jne(R1, 5, 1).jsgt(R1, R2, 1),
    "jeq %r1, 5, +1\njgt %r1, %r2, +1\njge %r1, 5, +1\njset %r1, %r2, +1\njne %r1, 5, +1\njsgt %r1, %r2, +1",
  ],
  [
    (b) => b.jsge(R1, 5, -1).jlt(R1, R2, -1).jle(R1, 5, -1).jslt(R1, R2, -1).jsle(R1, -5, -1),
    "jsge %r1, 5, -1\njlt %r1, %r2, -1\njle %r1, 5, -1\njslt %r1, %r2, -1\njsle %r1, -5, -1",
  ],
  [
    (b) =>
      b.jeq32(R1, 5, 1).jgt32(R1, R2, 1).jge32(R1, 5, 1).jset32(R1, R2, 1).jne32(R1, 5, 1).jsgt32(R1, R2, 1),
    "jeq32 %r1, 5, +1\njgt32 %r1, %r2, +1\njge32 %r1, 5, +1\njset32 %r1, %r2, +1\njne32 %r1, 5, +1\njsgt32 %r1, %r2, +1",
  ],
  [
    (b) => b.jsge32(R1, 5, 0).jlt32(R1, R2, 0).jle32(R1, 5, 0).jslt32(R1, R2, 0).jsle32(R1, 0x80000000, 0),
    "jsge32 %r1, 5, +0\njlt32 %r1, %r2, +0\njle32 %r1, 5, +0\njslt32 %r1, %r2, +0\njsle32 %r1, 0x80000000, +0",
  ],
  [(b) => b.ja(3).gotol(-70000).mayGoto(2).exit(), "ja +3\nja32 -70000\nmay_goto +2\nexit"],
  [
    (b) => b.call(5).callLocal(2).callKfunc(0x1234, 3).callx(R3),
    "call 5\ncall local +2\ncall kfunc 0x1234, 3\ncall %r3",
  ],
  [
    (b) => b.ldx(Size.B, R0, R1, 1).ldx(Size.H, R0, R1, 2).ldx(Size.W, R0, R1, 4).ldx(Size.DW, R0, R10, -8),
    "ldxb %r0, [%r1+1]\nldxh %r0, [%r1+2]\nldxw %r0, [%r1+4]\nldxdw %r0, [%r10-8]",
  ],
  [
    (b) => b.ldxs(Size.B, R0, R1, 0).ldxs(Size.H, R0, R1, 0).ldxs(Size.W, R0, R1, 0),
    "ldxsb %r0, [%r1]\nldxsh %r0, [%r1]\nldxsw %r0, [%r1]",
  ],
  [
    (b) => b.st(Size.B, R10, -1, 0x80).st(Size.H, R10, -2, 1).st(Size.W, R10, -4, -1).st(Size.DW, R10, -8, 2),
    "stb [%r10-1], 0x80\nsth [%r10-2], 1\nstw [%r10-4], -1\nstdw [%r10-8], 2",
  ],
  [
    (b) =>
      b.stx(Size.B, R10, R1, -1).stx(Size.H, R10, R1, -2).stx(Size.W, R10, R1, -4).stx(Size.DW, R10, R1, -8),
    "stxb [%r10-1], %r1\nstxh [%r10-2], %r1\nstxw [%r10-4], %r1\nstxdw [%r10-8], %r1",
  ],
  [
    (b) =>
      b
        .atomicAdd(Size.DW, R10, R1, -8)
        .atomicOr(Size.W, R10, R1, -4)
        .atomicAnd(Size.DW, R10, R1, -8)
        .atomicXor(Size.W, R10, R1, -4),
    "lock add [%r10-8], %r1\nlock or32 [%r10-4], %r1\nlock and [%r10-8], %r1\nlock xor32 [%r10-4], %r1",
  ],
  [
    (b) =>
      b
        .atomicFetchAdd(Size.W, R10, R1, -4)
        .atomicFetchOr(Size.DW, R10, R1, -8)
        .atomicFetchAnd(Size.W, R10, R1, -4)
        .atomicFetchXor(Size.DW, R10, R1, -8),
    "lock fetch add32 [%r10-4], %r1\nlock fetch or [%r10-8], %r1\nlock fetch and32 [%r10-4], %r1\nlock fetch xor [%r10-8], %r1",
  ],
  [
    (b) =>
      b
        .atomicXchg(Size.DW, R10, R1, -8)
        .atomicCmpxchg(Size.W, R10, R1, -4)
        .atomic(Size.DW, AtomicOp.ADD | AtomicOp.FETCH, R1, R2, 0),
    "lock xchg [%r10-8], %r1\nlock cmpxchg32 [%r10-4], %r1\nlock fetch add [%r1], %r2",
  ],
  [
    (b) =>
      b
        .loadAcquire(Size.B, R0, R1, 4)
        .loadAcquire(Size.DW, R0, R1, 0)
        .storeRelease(Size.H, R1, R2, -2)
        .storeRelease(Size.W, R1, R2, 0),
    "ldxacqb %r0, [%r1+4]\nldxacqdw %r0, [%r1]\nstxrelh [%r1-2], %r2\nstxrelw [%r1], %r2",
  ],
  [
    (b) => b.lddw(R0, 0x123456789abcdef0n).lddw(R1, -1).lddw(R2, 42),
    "lddw %r0, 0x123456789abcdef0\nlddw %r1, -1\nlddw %r2, 42",
  ],
  [
    (b) =>
      b
        .ldMapFd(R1, 3)
        .ldMapValue(R1, 3, 16)
        .ldMapIdx(R1, 0)
        .ldMapIdxValue(R1, 1, 8)
        .ldBtfId(R2, 77)
        .ldFunc(R2, 3),
    "lddw %r1, map_fd 3\nlddw %r1, map_value 3, 16\nlddw %r1, map_idx 0\nlddw %r1, map_idx_value 1, 8\nlddw %r2, btf_id 77\nlddw %r2, func +3",
  ],
  [
    (b) =>
      b
        .ldAbs(Size.B, 0x17)
        .ldAbs(Size.H, 12)
        .ldAbs(Size.W, 0)
        .ldInd(Size.B, R2, 1)
        .ldInd(Size.H, R2, 1)
        .ldInd(Size.W, R1, 4),
    "ldabsb 0x17\nldabsh 12\nldabsw 0\nldindb %r2, 1\nldindh %r2, 1\nldindw %r1, 4",
  ],
];

test("every builder method encodes like its conformance-dialect mnemonic", () => {
  for (const [f, text] of SAME) assert.equal(built(f), asm(text), text);
});

test("labels resolve forward and backward, counting lddw as two slots", () => {
  const prog = new ProgramBuilder()
    .label("top")
    .jeq(R1, 0, "out") // slot 0
    .lddw(R2, 1n) // slots 1-2
    .callLocal("fn") // slot 3
    .ldFunc(R3, "fn") // slots 4-5
    .mayGoto("out") // slot 6
    .gotol("top") // slot 7
    .ja("top") // slot 8
    .label("out")
    .exit() // slot 9
    .label("fn")
    .mov(R0, 0) // slot 10
    .exit()
    .label("end")
    .build();
  assert.equal(prog[0]!.off, 8);
  assert.equal(prog[2]!.imm, 6);
  assert.equal(prog[3]!.imm, 5);
  assert.equal(prog[4]!.off, 2);
  assert.equal(prog[5]!.imm, -8);
  assert.equal(prog[6]!.off, -9);
  assert.equal(
    hex(encode(prog)),
    asm(
      "top:\njeq %r1, 0, out\nlddw %r2, 1\ncall local fn\nlddw %r3, func fn\nmay_goto out\ngotol top\nja top\nout:\nexit\nfn:\nmov %r0, 0\nexit",
    ),
  );
});

function throwsBuild(f: () => unknown, message: RegExp) {
  assert.throws(f, (e: unknown) => e instanceof BuildError && message.test(e.message));
}

test("unknown labels, duplicate labels and far jumps are clear errors", () => {
  throwsBuild(
    () => new ProgramBuilder().mov(R0, 0).ja("nowhere").exit().build(),
    /instruction 1 \(ja\): unknown label 'nowhere'/,
  );
  throwsBuild(
    () => new ProgramBuilder().label("a").exit().label("a"),
    /duplicate label 'a' \(already at instruction 0\)/,
  );
  const far = new ProgramBuilder().ja("far");
  for (let i = 0; i < 32768; i++) far.exit();
  far.label("far").exit();
  throwsBuild(
    () => far.build(),
    /instruction 0 \(ja\): label 'far' is 32768 slots away, out of the 16-bit jump range/,
  );
  const farGotol = new ProgramBuilder().gotol("far");
  for (let i = 0; i < 32768; i++) farGotol.exit();
  assert.equal(farGotol.label("far").exit().build()[0]!.imm, 32768);
});

test("operands are checked when given", () => {
  const b = () => new ProgramBuilder().mov(R0, 0);
  throwsBuild(() => b().add(R1, 0x100000000), /instruction 1 \(add\): immediate 4294967296 out of range/);
  throwsBuild(() => b().add(R1, -0x80000001), /immediate -2147483649 out of range/);
  throwsBuild(() => b().add(R1, 1.5), /immediate 1.5 out of range/);
  throwsBuild(() => b().ldx(Size.W, R0, R1, 0x8000), /\(ldx\): offset 32768 out of range -32768..32767/);
  throwsBuild(() => b().ja(40000), /offset 40000 out of range/);
  throwsBuild(() => b().ldxs(Size.DW, R0, R1, 0), /\(ldxs\): size DW not allowed/);
  throwsBuild(() => b().ldAbs(Size.DW, 0), /size DW not allowed/);
  throwsBuild(() => b().atomicAdd(Size.B, R1, R2, 0), /size B not allowed/);
  throwsBuild(() => b().le(R1, 8 as 16), /\(le\): width 8 not one of 16, 32, 64/);
  throwsBuild(() => b().movsx32(R1, R2, 32 as 16), /width 32 not one of 8, 16/);
  throwsBuild(() => b().mov(1 as unknown as Register, 2), /expected a register \(R0..R10\), got 1/);
  throwsBuild(() => b().lddw(R1, 2 ** 60), /not a safe integer; pass a bigint/);
  throwsBuild(() => b().lddw(R1, 2n ** 64n), /out of 64-bit range/);
  throwsBuild(() => Register.of(11), /invalid register r11/);
  throwsBuild(
    () => b().raw({ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }).build(),
    /instruction 1 \(raw\): unknown opcode 0xff/,
  );
  assert.equal(Register.of(9), R9);
  assert.equal(String(R9), "r9");
});
