import { test } from "node:test";
import assert from "node:assert/strict";
import { assembleConformance } from "../../src/isa/asm/conformance.js";
import type { Instruction } from "../../src/isa/instruction.js";
import {
  HelperRegistry,
  Interpreter,
  Memory,
  ProgramLoadError,
  VmFault,
  unwindHelper,
  type RunOptions,
  type InterpreterOptions,
  type TraceEvent,
} from "../../src/vm/index.js";
import { TsbpfError } from "../../src/errors.js";
import { ProgramBuilder, R0, R1 } from "../../src/isa/builder.js";

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => v & M64;
const s64 = (v: bigint) => BigInt.asIntN(64, v);

const asm = (text: string): Instruction[] => assembleConformance(text, "test.s");
function run(text: string, options: RunOptions = {}, interp: InterpreterOptions = {}): bigint {
  return new Interpreter(asm(text), interp).run(options).r0;
}
/** Run and return the fault it must raise. */
function faultOf(text: string, options: RunOptions = {}, interp: InterpreterOptions = {}): VmFault {
  const p = new Interpreter(asm(text), interp);
  try {
    p.run(options);
  } catch (e) {
    assert.ok(e instanceof VmFault, `expected VmFault, got ${String(e)}`);
    return e;
  }
  assert.fail("the program did not fault");
}
const hex = (v: bigint) => `0x${u64(v).toString(16)}`;

test("64-bit add/sub carry and borrow across the 32-bit halves", () => {
  assert.equal(run("lddw %r0, 0xffffffff\nadd %r0, 1\nexit"), 0x100000000n);
  assert.equal(run("lddw %r0, 0x100000000\nsub %r0, 1\nexit"), 0xffffffffn);
  assert.equal(run("mov %r0, 0\nsub %r0, 1\nexit"), M64);
  assert.equal(
    run("lddw %r0, 0xffffffffffffffff\nlddw %r1, 0xffffffffffffffff\nadd %r0, %r1\nexit"),
    M64 - 1n,
  );
  assert.equal(run("mov %r0, 5\nadd %r0, -7\nexit"), u64(-2n));
});

test("64-bit multiply matches BigInt", () => {
  const pairs: [bigint, bigint][] = [
    [0x123456789n, 0x987654321n],
    [M64, M64],
    [0x8000000000000000n, 3n],
    [0xdeadbeefcafebaben, 0x0123456789abcdefn],
    [0xffffffffn, 0xffffffffn],
  ];
  for (const [a, b] of pairs) {
    const r = run(`lddw %r0, ${hex(a)}\nlddw %r1, ${hex(b)}\nmul %r0, %r1\nexit`);
    assert.equal(r, u64(a * b), `${hex(a)} * ${hex(b)}`);
  }
  assert.equal(run("mov %r0, 7\nmul %r0, -3\nexit"), u64(-21n));
  assert.equal(run("mov %r0, -1\nmul32 %r0, 3\nexit"), 0xfffffffdn);
});

test("division and modulo: by zero, INT_MIN / -1, signed and unsigned, 32 and 64 bits", () => {
  // unsigned 64 with high words set (BigInt slow path)
  const a = 0xfedcba9876543210n;
  const b = 0x123456789n;
  assert.equal(run(`lddw %r0, ${hex(a)}\nlddw %r1, ${hex(b)}\ndiv %r0, %r1\nexit`), a / b);
  assert.equal(run(`lddw %r0, ${hex(a)}\nlddw %r1, ${hex(b)}\nmod %r0, %r1\nexit`), a % b);
  // by zero
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\ndiv %r0, %r1\nexit`), 0n);
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\nmod %r0, %r1\nexit`), a);
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\nsdiv %r0, %r1\nexit`), 0n);
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\nsmod %r0, %r1\nexit`), a);
  // 32-bit modulo by zero: dst unchanged, zero-extended
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\nmod32 %r0, %r1\nexit`), a & 0xffffffffn);
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov %r1, 0\ndiv32 %r0, %r1\nexit`), 0n);
  assert.equal(run(`lddw %r0, ${hex(a)}\nmov32 %r1, 0\nsmod32 %r0, %r1\nexit`), a & 0xffffffffn);
  // INT_MIN / -1
  assert.equal(run("lddw %r0, 0x8000000000000000\nsdiv %r0, -1\nexit"), 0x8000000000000000n);
  assert.equal(run("lddw %r0, 0x8000000000000000\nsmod %r0, -1\nexit"), 0n);
  assert.equal(run("mov32 %r0, 0x80000000\nsdiv32 %r0, -1\nexit"), 0x80000000n);
  assert.equal(run("mov32 %r0, 0x80000000\nsmod32 %r0, -1\nexit"), 0n);
  // 64-bit sdiv of the 32-bit INT_MIN is not an overflow
  assert.equal(run("mov %r0, -2147483648\nsdiv %r0, -1\nexit"), 0x80000000n);
  // signs: truncation toward zero, remainder has the dividend's sign
  assert.equal(run("mov %r0, -7\nsdiv %r0, 2\nexit"), u64(-3n));
  assert.equal(run("mov %r0, -7\nsmod %r0, 2\nexit"), u64(-1n));
  assert.equal(run("mov %r0, 7\nsmod %r0, -2\nexit"), 1n);
  assert.equal(run("mov32 %r0, -7\nsdiv32 %r0, 2\nexit"), 0xfffffffdn);
  assert.equal(run("mov32 %r0, -7\ndiv32 %r0, 2\nexit"), 0x7ffffffcn);
  // unsigned 64 division of a "negative" number
  assert.equal(run("mov %r0, -1\ndiv %r0, 2\nexit"), M64 / 2n);
  const big = -0x123456789abn;
  assert.equal(run(`lddw %r0, ${hex(big)}\nsdiv %r0, 1000\nexit`), u64(big / 1000n));
  assert.equal(run(`lddw %r0, ${hex(big)}\nsmod %r0, 1000\nexit`), u64(big % 1000n));
});

test("shift amounts are masked (&63 / &31); shifts by 0, 32 and above", () => {
  const x = 0x8123456789abcdefn;
  for (const n of [0, 1, 13, 31, 32, 33, 63, 64, 65, 127]) {
    const c = BigInt(n & 63);
    assert.equal(run(`lddw %r0, ${hex(x)}\nlsh %r0, ${n}\nexit`), u64(x << c), `lsh ${n}`);
    assert.equal(run(`lddw %r0, ${hex(x)}\nrsh %r0, ${n}\nexit`), x >> c, `rsh ${n}`);
    assert.equal(run(`lddw %r0, ${hex(x)}\narsh %r0, ${n}\nexit`), u64(s64(x) >> c), `arsh ${n}`);
    assert.equal(run(`lddw %r0, ${hex(x)}\nmov %r1, ${n}\nlsh %r0, %r1\nexit`), u64(x << c), `lsh reg ${n}`);
    const c32 = BigInt(n & 31);
    const lo = x & 0xffffffffn;
    assert.equal(run(`lddw %r0, ${hex(x)}\nlsh32 %r0, ${n}\nexit`), (lo << c32) & 0xffffffffn, `lsh32 ${n}`);
    assert.equal(run(`lddw %r0, ${hex(x)}\nrsh32 %r0, ${n}\nexit`), lo >> c32, `rsh32 ${n}`);
    assert.equal(
      run(`lddw %r0, ${hex(x)}\nmov %r1, ${n}\narsh32 %r0, %r1\nexit`),
      BigInt.asUintN(32, BigInt.asIntN(32, lo) >> c32),
      `arsh32 ${n}`,
    );
  }
});

test("32-bit ALU zero-extends; 64-bit immediates sign-extend", () => {
  assert.equal(run("mov %r0, -1\nexit"), M64);
  assert.equal(run("mov32 %r0, -1\nexit"), 0xffffffffn);
  assert.equal(run("mov %r0, -1\nadd32 %r0, 0\nexit"), 0xffffffffn);
  assert.equal(run("mov %r0, -1\nmov %r1, -1\nmov32 %r0, %r1\nexit"), 0xffffffffn);
  assert.equal(run("lddw %r0, 0x1ffffffff\nadd32 %r0, 1\nexit"), 0n);
  assert.equal(run("lddw %r0, 0x1ffffffff\nor32 %r0, 0\nexit"), 0xffffffffn);
  assert.equal(run("mov %r0, 0\nor %r0, -2\nexit"), u64(-2n));
  assert.equal(run("lddw %r0, 0xffffffffffffffff\nand %r0, 0x7fffffff\nexit"), 0x7fffffffn);
  assert.equal(run("lddw %r0, 0x123456789\nxor %r0, -1\nexit"), u64(~0x123456789n));
});

test("neg, movsx, sign-extending loads", () => {
  assert.equal(run("mov %r0, 5\nneg %r0\nexit"), u64(-5n));
  assert.equal(run("mov %r0, 0\nneg %r0\nexit"), 0n);
  assert.equal(run("lddw %r0, 0x8000000000000000\nneg %r0\nexit"), 0x8000000000000000n);
  assert.equal(run("lddw %r0, 0x100000000\nneg %r0\nexit"), u64(-0x100000000n));
  assert.equal(run("mov %r0, 5\nneg32 %r0\nexit"), 0xfffffffbn);
  assert.equal(run("mov %r1, 0x80\nmovsx864 %r0, %r1\nexit"), u64(-128n));
  assert.equal(run("mov %r1, 0x7f\nmovsx864 %r0, %r1\nexit"), 0x7fn);
  assert.equal(run("mov %r1, 0x8000\nmovsx1664 %r0, %r1\nexit"), u64(-32768n));
  assert.equal(run("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1\nexit"), u64(-0x80000000n));
  assert.equal(run("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit"), 0xffffff80n);
  assert.equal(run("mov %r1, 0x8001\nmovsx1632 %r0, %r1\nexit"), 0xffff8001n);
  const mem = new Memory();
  const r = mem.addRegion({
    kind: "other",
    name: "m",
    bytes: Uint8Array.from([0x80, 0xff, 0xfe, 0xff, 0x7f]),
  });
  const regs = { r1: r.base };
  assert.equal(run("ldxsb %r0, [%r1]\nexit", { memory: mem, registers: regs }), u64(-128n));
  assert.equal(run("ldxsh %r0, [%r1]\nexit", { memory: mem, registers: regs }), u64(-128n));
  assert.equal(run("ldxsw %r0, [%r1]\nexit", { memory: mem, registers: regs }), u64(-0x10080n));
  assert.equal(run("ldxsb %r0, [%r1+4]\nexit", { memory: mem, registers: regs }), 0x7fn);
  assert.equal(run("ldxw %r0, [%r1]\nexit", { memory: mem, registers: regs }), 0xfffeff80n);
});

test("byte swaps: be, le (truncating on this little-endian VM), bswap", () => {
  const x = 0x0123456789abcdefn;
  const cases: [string, bigint][] = [
    ["be16", 0xefcdn],
    ["be32", 0xefcdab89n],
    ["be64", 0xefcdab8967452301n],
    ["le16", 0xcdefn],
    ["le32", 0x89abcdefn],
    ["le64", x],
    ["bswap16", 0xefcdn],
    ["bswap32", 0xefcdab89n],
    ["bswap64", 0xefcdab8967452301n],
  ];
  for (const [op, want] of cases) assert.equal(run(`lddw %r0, ${hex(x)}\n${op} %r0\nexit`), want, op);
});

test("every conditional jump, JMP and JMP32, immediate and register, signed and unsigned", () => {
  const values = [
    0n,
    1n,
    2n,
    M64,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x100000000n,
    0x8000000000000000n,
    0xfffffffe00000001n,
  ];
  const ops: Record<string, (a: bigint, b: bigint) => boolean> = {
    jeq: (a, b) => a === b,
    jne: (a, b) => a !== b,
    jgt: (a, b) => a > b,
    jge: (a, b) => a >= b,
    jlt: (a, b) => a < b,
    jle: (a, b) => a <= b,
    jset: (a, b) => (a & b) !== 0n,
  };
  const signed: Record<string, (a: bigint, b: bigint) => boolean> = {
    jsgt: (a, b) => a > b,
    jsge: (a, b) => a >= b,
    jslt: (a, b) => a < b,
    jsle: (a, b) => a <= b,
  };
  let checked = 0;
  for (const a of values) {
    for (const b of values) {
      for (const wide of [true, false]) {
        const bits = wide ? 64 : 32;
        const ua = BigInt.asUintN(bits, a);
        const sa = BigInt.asIntN(bits, a);
        for (const [reg, bv] of [
          [true, b],
          [false, BigInt.asIntN(32, b)], // immediates are 32-bit, sign-extended
        ] as const) {
          const ub = BigInt.asUintN(bits, reg ? bv : BigInt.asUintN(64, bv));
          const sb = BigInt.asIntN(bits, ub);
          const all = { ...ops, ...signed };
          for (const [name, pred] of Object.entries(all)) {
            const want = name in signed ? pred(sa, sb) : pred(ua, ub);
            const operand = reg ? "%r2" : String(bv);
            const text = `lddw %r1, ${hex(a)}\nlddw %r2, ${hex(bv)}\nmov %r0, 1\n${name}${wide ? "" : "32"} %r1, ${operand}, +1\nmov %r0, 0\nexit`;
            assert.equal(
              run(text),
              want ? 1n : 0n,
              `${name}${wide ? "" : "32"} ${hex(a)}, ${reg ? "reg" : "imm"} ${hex(bv)}`,
            );
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 4000);
});

test("ja, gotol (ja32) and may_goto", () => {
  assert.equal(run("mov %r0, 1\nja +1\nmov %r0, 2\nexit"), 1n);
  assert.equal(run("mov %r0, 1\nja32 L\nmov %r0, 2\nL:\nexit"), 1n);
  // may_goto falls through while its budget lasts, then jumps
  const loop = "mov %r0, 0\nL:\nmay_goto out\nadd %r0, 1\nja L\nout:\nexit";
  assert.equal(run(loop, {}, { mayGotoBudget: 100 }), 100n);
  assert.equal(run(loop, {}, { mayGotoBudget: 0 }), 0n);
});

test("lddw loads 64-bit constants; the instruction count is exact", () => {
  const p = new Interpreter(asm("lddw %r0, 0xfedcba9876543210\nexit"));
  assert.deepEqual(p.run(), { r0: 0xfedcba9876543210n, instructions: 2 });
});

test("loads and stores of every size, st imm sign-extends", () => {
  const mem = new Memory();
  const r = mem.addRegion({ kind: "other", name: "buf", length: 32 });
  const opts = { memory: mem, registers: { r1: r.base } };
  const text = `
lddw %r2, 0x1122334455667788
stxdw [%r1], %r2
stxw [%r1+8], %r2
stxh [%r1+12], %r2
stxb [%r1+14], %r2
stdw [%r1+16], -2
stw [%r1+24], 0x01020304
sth [%r1+28], -1
stb [%r1+31], 0x7f
ldxdw %r0, [%r1]
ldxw %r3, [%r1+8]
ldxh %r4, [%r1+12]
ldxb %r5, [%r1+14]
exit`;
  assert.equal(run(text, opts), 0x1122334455667788n);
  assert.deepEqual(
    [...r.bytes],
    [
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55, 0x88, 0x77, 0x88, 0, 0xfe, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4, 3, 2, 1, 0xff, 0xff, 0, 0x7f,
    ],
  );
  assert.equal(run("ldxh %r0, [%r1+12]\nexit", opts), 0x7788n);
  // misaligned access is allowed
  assert.equal(run("ldxdw %r0, [%r1+1]\nexit", opts), 0x8811223344556677n);
});

test("atomics: add/or/and/xor with and without fetch, xchg, cmpxchg, 32 and 64 bits", () => {
  const initial = 0x00000000f0f0f0f0n;
  const operand = 0x100000000fn;
  const ops: [string, (a: bigint, b: bigint) => bigint][] = [
    ["add", (a, b) => a + b],
    ["or", (a, b) => a | b],
    ["and", (a, b) => a & b],
    ["xor", (a, b) => a ^ b],
    ["xchg", (_a, b) => b],
  ];
  for (const wide of [true, false]) {
    const mask = wide ? M64 : 0xffffffffn;
    for (const [name, f] of ops) {
      for (const fetch of name === "xchg" ? [true] : [false, true]) {
        const mem = new Memory();
        const r = mem.addRegion({ kind: "other", name: "v", length: 8 });
        new DataView(r.bytes.buffer).setBigUint64(0, 0xaaaaaaaa00000000n | initial, true);
        const text = `lddw %r2, ${hex(operand)}\nlock ${fetch && name !== "xchg" ? "fetch " : ""}${name}${wide ? "" : "32"} [%r1], %r2\nmov %r0, %r2\nexit`;
        const r0 = run(text, { memory: mem, registers: { r1: r.base } });
        const before = (0xaaaaaaaa00000000n | initial) & mask;
        const after = f(before, operand & mask) & mask;
        const stored = new DataView(r.bytes.buffer).getBigUint64(0, true);
        const label = `${fetch ? "fetch " : ""}${name}${wide ? "" : "32"}`;
        assert.equal(stored & mask, after, `${label} stores`);
        if (!wide) assert.equal(stored >> 32n, 0xaaaaaaaan, `${label} leaves the high word`);
        assert.equal(r0, fetch ? before : operand, `${label} fetch`);
      }
    }
  }
  const mem = new Memory();
  const r = mem.addRegion({ kind: "other", name: "v", length: 8 });
  const view = new DataView(r.bytes.buffer);
  const opts = { memory: mem, registers: { r1: r.base } };
  view.setBigUint64(0, 42n, true);
  // failure: r0 != memory, memory unchanged, r0 = old value
  assert.equal(run("mov %r0, 7\nmov %r2, 99\nlock cmpxchg [%r1], %r2\nexit", opts), 42n);
  assert.equal(view.getBigUint64(0, true), 42n);
  // success
  assert.equal(run("mov %r0, 42\nmov %r2, 99\nlock cmpxchg [%r1], %r2\nexit", opts), 42n);
  assert.equal(view.getBigUint64(0, true), 99n);
  // 32-bit compares the low half of r0 and zero-extends the old value into r0
  view.setBigUint64(0, 0x1234567880000001n, true);
  assert.equal(
    run("lddw %r0, 0xffffffff80000001\nmov %r2, 5\nlock cmpxchg32 [%r1], %r2\nexit", opts),
    0x80000001n,
  );
  assert.equal(view.getBigUint64(0, true), 0x1234567800000005n);
  // load-acquire / store-release
  assert.equal(run("mov %r2, -1\nstxreldw [%r1], %r2\nldxacqh %r0, [%r1+2]\nexit", opts), 0xffffn);
  assert.equal(run("mov %r2, 0x1234\nstxrelb [%r1], %r2\nldxacqw %r0, [%r1]\nexit", opts), 0xffffff34n);
});

test("BPF-to-BPF calls: arguments, r0, callee-saved r6-r9, one stack per frame", () => {
  const text = `
mov %r6, 6
mov %r7, 7
mov %r8, 8
mov %r9, 9
stdw [%r10-8], 111
mov %r1, %r10
add %r1, -8
call local f
# caller's stack slot was changed through the pointer, not by the callee's own stack writes
ldxdw %r2, [%r10-8]
jne %r2, 222, bad
jne %r6, 6, bad
jne %r7, 7, bad
jne %r8, 8, bad
jne %r9, 9, bad
exit
bad:
mov %r0, -1
exit
f:
ldxdw %r0, [%r10-8]
stdw [%r10-8], 5
stdw [%r1], 222
mov %r6, 0
mov %r7, 0
mov %r8, 0
mov %r9, 0
add %r0, 1
exit`;
  // the callee's fresh stack reads 0 at [r10-8], so r0 = 1
  assert.equal(run(text), 1n);
});

test("call depth: 8 frames run, a 9th faults", () => {
  // f recurses r1 times
  const rec = (n: number) =>
    `mov %r1, ${n}\ncall local f\nexit\nf:\njeq %r1, 0, done\nsub %r1, 1\ncall local f\ndone:\nmov %r0, 1\nexit`;
  assert.equal(run(rec(6)), 1n); // main + 7 nested frames = 8
  const f = faultOf(rec(7));
  assert.equal(f.kind, "call-depth");
  assert.match(f.message, /^pc 5 \(call local -3\): call nested deeper than 8 frames$/);
});

test("instruction budget: exact, and a clear fault instead of a hang", () => {
  const three = "mov %r0, 1\nmov %r0, 2\nexit";
  assert.equal(new Interpreter(asm(three), { budget: 3 }).run().instructions, 3);
  const f = faultOf(three, { budget: 2 });
  assert.equal(f.kind, "budget");
  assert.equal(f.pc, 2);
  const loop = faultOf("L:\nja L");
  assert.equal(loop.kind, "budget");
  assert.match(loop.message, /instruction budget of 1000000 exhausted/);
});

test("out-of-bounds fault names pc, instruction, address and region", () => {
  const mem = new Memory();
  const ctx = mem.addRegion({ kind: "context", name: "context", length: 64 });
  const f = faultOf("ldxw %r0, [%r1+600]\nexit", { memory: mem, registers: { r1: ctx.base } });
  assert.equal(
    f.message,
    'pc 0 (ldxw r0, [r1+600]): read of 4 bytes at 0x100000258 out of bounds of region "context" (0x100000000..+64)',
  );
  assert.equal(f.kind, "out-of-bounds");
  assert.equal(f.address, 0x100000258n);
  assert.equal(f.region, "context");
  assert.equal(f.pc, 0);
  assert.ok(f instanceof TsbpfError);
  // the last byte is in bounds, one more is not; negative offsets fault
  assert.equal(run("ldxb %r0, [%r1+63]\nexit", { memory: mem, registers: { r1: ctx.base } }), 0n);
  assert.equal(
    faultOf("ldxw %r0, [%r1+61]\nexit", { memory: mem, registers: { r1: ctx.base } }).kind,
    "out-of-bounds",
  );
  assert.equal(
    faultOf("stw [%r1-4], 1\nexit", { memory: mem, registers: { r1: ctx.base } }).kind,
    "out-of-bounds",
  );
  // stack: below the frame's 512 bytes, and at r10 itself
  assert.equal(faultOf("stdw [%r10-520], 1\nexit").kind, "out-of-bounds");
  assert.match(faultOf("ldxb %r0, [%r10]\nexit").message, /region "stack\[0\]"/);
});

test("null, unmapped and read-only accesses fault", () => {
  const n = faultOf("mov %r1, 0\nldxdw %r0, [%r1+8]\nexit");
  assert.equal(n.kind, "unmapped");
  assert.match(n.message, /^pc 1 \(ldxdw r0, \[r1\+8\]\): read of 8 bytes at 0x8: null pointer/);
  assert.match(
    faultOf("lddw %r1, 0x7700000000\nstb [%r1], 1\nexit").message,
    /at 0x7700000000: address not mapped/,
  );
  const mem = new Memory();
  const ro = mem.addRegion({ kind: "read-only-data", name: ".rodata", bytes: Uint8Array.of(1, 2, 3, 4) });
  const opts = { memory: mem, registers: { r1: ro.base } };
  assert.equal(run("ldxw %r0, [%r1]\nexit", opts), 0x04030201n);
  const w = faultOf("stw [%r1], 0\nexit", opts);
  assert.equal(w.kind, "read-only");
  assert.match(w.message, /write of 4 bytes at 0x100000000 in read-only region ".rodata"/);
  assert.equal(faultOf("mov %r2, 1\nlock add32 [%r1], %r2\nexit", opts).kind, "read-only");
  mem.removeRegion(ro);
  assert.equal(faultOf("ldxw %r0, [%r1]\nexit", opts).kind, "unmapped");
});

test("r10 is read-only", () => {
  const f = faultOf("mov %r10, 0\nexit");
  assert.equal(f.kind, "read-only-register");
  assert.equal(f.pc, 0);
  assert.equal(faultOf("mov %r0, 0\nlock fetch add [%r10-8], %r10\nexit").kind, "read-only-register");
  // reading it is fine: r10 points at the end of the frame
  const mem = new Memory();
  assert.equal(run("mov %r0, %r10\nexit", { memory: mem }), mem.stackFrame(0).base + 512n);
});

test("LD_ABS / LD_IND read the packet big-endian; out of bounds ends the program with r0 = 0", () => {
  const mem = new Memory();
  const packet = mem.addRegion({
    kind: "packet",
    name: "packet",
    bytes: Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a),
  });
  const opts = { memory: mem, packet };
  assert.equal(run("ldabsw 1\nexit", opts), 0x3456789an);
  assert.equal(run("ldabsh 0\nexit", opts), 0x1234n);
  assert.equal(run("ldabsb 4\nexit", opts), 0x9an);
  assert.equal(run("mov %r2, 2\nldindh %r2, 1\nexit", opts), 0x789an);
  assert.equal(run("mov %r0, 7\nldabsw 2\nmov %r0, 9\nexit", opts), 0n);
  assert.equal(run("mov %r2, -1\nldindb %r2, 0\nmov %r0, 9\nexit", opts), 0n);
  assert.equal(faultOf("ldabsb 0\nexit").kind, "no-packet");
});

test("helpers: arguments, return values, unknown ids at load, callx by register", () => {
  const seen: bigint[] = [];
  const helpers = new HelperRegistry()
    .register(1, "sum", (c) => {
      seen.push(c.arg(1), c.argSigned(2));
      return c.arg(1) + c.arg(2) + c.arg(3) + c.arg(4) + c.arg(5);
    })
    .register(2, "minus_one", () => -1)
    .register(3, "void", () => undefined)
    .register(4, "u32", (c) => c.argU32(1) + c.argHigh32(1) + c.argNumber(2));
  const h = { helpers };
  assert.equal(run("mov %r1, 1\nmov %r2, -2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\nexit", {}, h), 11n);
  assert.deepEqual(seen, [1n, -2n]);
  assert.equal(run("call 2\nexit", {}, h), M64);
  assert.equal(run("mov %r0, 5\ncall 3\nexit", {}, h), 0n);
  assert.equal(run("lddw %r1, 0x300000002\nmov %r2, 10\ncall 4\nexit", {}, h), 15n);
  assert.equal(run("mov %r2, 2\ncallx %r2\nexit", {}, h), M64);
  assert.throws(
    () => new Interpreter(asm("call 99\nexit"), h),
    (e: unknown) => e instanceof ProgramLoadError && /pc 0: unknown helper id 99/.test(e.message),
  );
  assert.equal(faultOf("mov %r2, 99\ncallx %r2\nexit", {}, h).kind, "bad-helper");
});

test("helper failures become faults of the call instruction", () => {
  const helpers = new HelperRegistry()
    .register(1, "boom", () => {
      throw new Error("kaput");
    })
    .register(2, "peek", (c) => c.memory.view(c.arg(1), 16)[0]!)
    .register(3, "fraction", () => 0.5);
  const f = faultOf("mov %r0, 0\ncall 1\nexit", {}, { helpers });
  assert.equal(f.kind, "helper");
  assert.equal(f.pc, 1);
  assert.match(f.message, /helper boom failed: kaput/);
  const mem = new Memory();
  const r = mem.addRegion({ kind: "other", name: "small", length: 8 });
  const g = faultOf("call 2\nexit", { memory: mem, registers: { r1: r.base } }, { helpers });
  assert.equal(g.kind, "out-of-bounds");
  assert.equal(g.address, r.base);
  assert.equal(faultOf("call 3\nexit", {}, { helpers }).kind, "helper");
});

test("unwind helper stops the program; exit() is available to every helper", () => {
  const helpers = new HelperRegistry().register(5, "unwind", unwindHelper);
  assert.equal(run("mov %r1, 0\ncall 5\nmov %r0, 2\nexit", {}, { helpers }), 0n);
  assert.equal(run("mov %r1, -1\ncall 5\nmov %r0, 2\nexit", {}, { helpers }), 2n);
  // from a nested frame too
  const nested = "call local f\nmov %r0, 2\nexit\nf:\nmov %r1, 0\ncall 5\nmov %r0, 3\nexit";
  assert.equal(run(nested, {}, { helpers }), 0n);
  const stop = new HelperRegistry().register(7, "stop42", (c) => c.exit(42n));
  assert.equal(run("call 7\nmov %r0, 1\nexit", {}, { helpers: stop }), 42n);
});

test("tail calls continue in another program with the same context, at most 33", () => {
  let target: Interpreter | undefined;
  const helpers = new HelperRegistry().register(12, "tail_call", (c) => (c.tailCall(target!) ? 0 : -2));
  // each program run increments a counter in the context then tail-calls itself
  const self = new Interpreter(
    asm("mov %r6, %r1\nldxdw %r2, [%r6]\nadd %r2, 1\nstxdw [%r6], %r2\ncall 12\nldxdw %r0, [%r6]\nexit"),
    { helpers, name: "self" },
  );
  target = self;
  const mem = new Memory();
  const ctx = mem.addRegion({ kind: "context", name: "ctx", length: 8 });
  const res = self.run({ memory: mem, registers: { r1: ctx.base } });
  assert.equal(res.r0, 34n); // the first run plus 33 tail calls
  // a different target: r0 comes from it, registers other than r1 are reset
  target = new Interpreter(asm("mov %r0, %r2\nadd %r0, %r1\nexit"), { name: "other" });
  const first = new Interpreter(asm("mov %r2, 77\ncall 12\nmov %r0, 5\nexit"), { helpers });
  assert.equal(first.run({ registers: { r1: 1000n } }).r0, 1000n);
});

test("helpers can call back into the program (bpf_loop style)", () => {
  const helpers = new HelperRegistry().register(181, "loop", (c) => {
    const n = c.argNumber(1);
    for (let i = 0; i < n; i++) if (c.callFunction(c.arg(2), BigInt(i), c.arg(3)) !== 0n) return i + 1;
    return n;
  });
  const text = `
stdw [%r10-8], 0
mov %r1, 10
lddw %r2, func, cb
mov %r3, %r10
add %r3, -8
call 181
ldxdw %r0, [%r10-8]
exit
cb:
ldxdw %r0, [%r2]
add %r0, %r1
stxdw [%r2], %r0
mov %r0, 0
exit`;
  assert.equal(run(text, {}, { helpers }), 45n);
});

test("lddw pseudo sources: resolved by the loader hook, or an 'unresolved' fault", () => {
  const text = "lddw %r0, map_fd, 3\nexit";
  const f = faultOf(text);
  assert.equal(f.kind, "unresolved-reference");
  assert.match(f.message, /unresolved map fd reference \(imm 3\)/);
  assert.equal(run(text, {}, { resolvePseudo: (insn) => 0x500000000n + BigInt(insn.imm) }), 0x500000003n);
});

test("load errors: bad jumps, empty programs, kfuncs; falling off the end faults", () => {
  const bad = (p: Instruction[], re: RegExp) =>
    assert.throws(
      () => new Interpreter(p),
      (e: unknown) => e instanceof ProgramLoadError && re.test(e.message),
    );
  bad([], /empty program/);
  bad(asm("ja +5\nexit"), /jump target 6 out of range/);
  bad([{ code: 0x05, dst: 0, src: 0, off: 1, imm: 0 }, ...asm("lddw %r0, 1\nexit")], /middle of an lddw/);
  bad(asm("call kfunc 1234\nexit"), /kfunc/);
  bad([{ code: 0x07, dst: 11, src: 0, off: 0, imm: 0 }], /invalid register/);
  bad([{ code: 0x07, dst: 0, src: 0, off: 0, imm: 2 ** 32 }], /out of range/);
  assert.equal(faultOf("mov %r0, 1").kind, "fell-off-end");
});

test("trace reports each instruction with the registers it changed", () => {
  const events: TraceEvent[] = [];
  const p = new Interpreter(asm("mov %r0, 1\nmov %r1, 1\nadd %r0, %r1\nexit"));
  const res = p.run({ trace: (e) => events.push(e), registers: { r1: 1n } });
  assert.equal(res.r0, 2n);
  assert.deepEqual(
    events.map((e) => [e.pc, e.changes.map((c) => [c.register, c.before, c.after])]),
    [
      [0, [[0, 0n, 1n]]],
      [1, []],
      [2, [[0, 1n, 2n]]],
      [3, []],
    ],
  );
  assert.equal(events[2]!.instruction?.code, 0x0f);
  // the budget applies in trace mode too
  assert.equal(faultOf("L:\nja L", { trace: () => {}, budget: 10 }).kind, "budget");
});

test("runs are reentrant: a nested run on the same memory gets its own stack frames", () => {
  const mem = new Memory();
  let nested = false;
  const helpers = new HelperRegistry().register(1, "nested", () => {
    if (nested) return 1;
    nested = true;
    return outer.run({ memory: mem }).r0;
  });
  const outer = new Interpreter(asm("stdw [%r10-8], 3\ncall 1\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit"), {
    helpers,
  });
  // nested: 1 + 3; outer: 4 + 3 (its stack slot survived the nested run)
  assert.equal(outer.run({ memory: mem }).r0, 7n);
  nested = true;
  assert.equal(outer.run({ memory: mem }).r0, 4n);
  assert.throws(() => outer.run({ registers: { r10: 1n } as never }), TsbpfError);
});

test("initial registers and r0 keep all 64 bits on both sides of the 2^53 fast paths", () => {
  const ret = new Interpreter(new ProgramBuilder().mov(R0, R1).exit().build());
  for (const v of [
    0n,
    1n,
    0xffffffffn,
    0x100000000n,
    (5n << 32n) | 0xfffffff0n,
    (1n << 53n) - 1n,
    1n << 53n,
    (1n << 53n) + 1n,
    (1n << 64n) - 1n,
    0x8000000000000000n,
  ])
    assert.equal(ret.run({ registers: { r1: v } }).r0, v, `0x${v.toString(16)}`);
  assert.equal(ret.run({ registers: { r1: -1n } }).r0, (1n << 64n) - 1n, "negative values wrap");
  assert.equal(ret.run({ registers: { r1: 1n << 64n } }).r0, 0n, "taken modulo 2^64");
  assert.throws(() => ret.run({ registers: { r10: 1n } as never }), /bad initial register r10/);
  assert.throws(
    () => ret.run({ registers: { constructor: 1n } as never }),
    /bad initial register constructor/,
  );
});
