import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParseError } from "../../src/errors.js";
import { ElfFile } from "../../src/elf/index.js";
import { decode, encode } from "../../src/isa/codec.js";
import type { Instruction } from "../../src/isa/instruction.js";
import { checkInstruction } from "../../src/isa/validity.js";
import { assembleLlvm, disassembleLlvm, formatInstruction } from "../../src/isa/llvm/index.js";

// The repository root, whether this runs from test/ (tsx) or dist/test/ (compiled).
const REPO = ["../..", "../../.."]
  .map((up) => new URL(up, import.meta.url).pathname)
  .find((dir) => existsSync(join(dir, "package.json")))!;
const SHARED = process.env.TSBPF_SHARED ?? join(REPO, "../shared");

function have(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const HAVE_OBJDUMP = have("llvm-objdump-19");
const HAVE_CLANG = have("clang-19");

const hex = (s: string) => Uint8Array.from(s.match(/[0-9a-f]{2}/g)!.map((b) => parseInt(b, 16)));
const one = (bytes: string, options = {}) =>
  disassembleLlvm(decode(hex(bytes), { validate: false }), options)[0];

test("prints each instruction class as llvm-objdump-19 does", () => {
  const cases: [string, string][] = [
    ["61 10 10 00 00 00 00 00", "r0 = *(u32 *)(r1 + 0x10)"],
    ["15 03 01 00 00 00 00 00", "if r3 == 0x0 goto +0x1"],
    ["04 00 00 00 2a 00 00 00", "w0 += 0x2a"],
    ["18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "r1 = 0x0 ll"],
    ["18 01 00 00 89 67 45 23 00 00 00 00 01 00 00 00", "r1 = 0x123456789 ll"],
    ["18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff", "r1 = -0x1 ll"],
    ["85 00 00 00 01 00 00 00", "call 0x1"],
    ["db 1a f8 ff 00 00 00 00", "lock *(u64 *)(r10 - 0x8) += r1"],
    ["db 01 00 00 01 00 00 00", "r0 = atomic_fetch_add((u64 *)(r1 + 0x0), r0)"],
    ["db 21 00 00 e1 00 00 00", "r2 = xchg_64(r1 + 0x0, r2)"],
    ["db 21 00 00 f1 00 00 00", "r0 = cmpxchg_64(r1 + 0x0, r0, r2)"],
    ["d7 01 00 00 10 00 00 00", "r1 = bswap16 r1"],
    ["dc 01 00 00 10 00 00 00", "r1 = be16 r1"],
    ["d4 01 00 00 20 00 00 00", "r1 = le32 r1"],
    ["bf 10 08 00 00 00 00 00", "r0 = (s8)r1"],
    ["3f 10 01 00 00 00 00 00", "r0 s/= r1"],
    ["05 00 03 00 00 00 00 00", "goto +0x3"],
    ["06 00 00 00 03 00 00 00", "gotol +0x3"],
    ["e5 00 02 00 00 00 00 00", "may_goto +0x2"],
    ["8d 02 00 00 00 00 00 00", "callx r2"],
    ["30 00 00 00 01 00 00 00", "r0 = *(u8 *)skb[0x1]"],
    ["48 10 00 00 00 00 00 00", "r0 = *(u16 *)skb[r1]"],
    ["91 10 f0 ff 00 00 00 00", "r0 = *(s8 *)(r1 - 0x10)"],
    ["7a 0a f8 ff fb ff ff ff", "*(u64 *)(r10 - 0x8) = -0x5"],
    ["6e 43 ff ff 00 00 00 00", "if w3 s> w4 goto -0x1"],
    ["87 00 00 00 00 00 00 00", "r0 = -r0"],
    ["bf 21 01 00 05 00 03 00", "r1 = addr_space_cast(r2, 0x3, 0x5)"],
    ["95 00 00 00 00 00 00 00", "exit"],
    ["18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00", "ld_pseudo\tr1, 0x1, 0x3"],
  ];
  for (const [bytes, text] of cases) {
    assert.equal(one(bytes, { annotate: false }), text, bytes);
    assert.deepEqual(encode(assembleLlvm(text)), hex(bytes), text);
  }
});

test("alu32 mode names w registers in 32-bit memory access, as llvm-objdump --mcpu=v3", () => {
  assert.equal(one("61 10 10 00 00 00 00 00", { alu32: true }), "w0 = *(u32 *)(r1 + 0x10)");
  assert.equal(one("63 1a f8 ff 00 00 00 00", { alu32: true }), "*(u32 *)(r10 - 0x8) = w1");
  assert.equal(
    one("c3 21 00 00 01 00 00 00", { alu32: true }),
    "w2 = atomic_fetch_add((u32 *)(r1 + 0x0), w2)",
  );
  assert.equal(one("c3 21 00 00 e1 00 00 00", { alu32: true }), "w2 = xchg32_32(r1 + 0x0, w2)");
  assert.equal(one("c3 21 00 00 f1 00 00 00", { alu32: true }), "w0 = cmpxchg32_32(r1 + 0x0, w0, w2)");
  // objdump's generic CPU misprints a 32-bit fetch-add as a plain add: we say so in a field comment
  assert.equal(one("c3 21 00 00 01 00 00 00"), "lock *(u32 *)(r1 + 0x0) += r2 ; imm=0x1");
});

test("field annotations where objdump's text is ambiguous, and round trip", () => {
  const cases: [string, string][] = [
    ["85 10 00 00 ff ff ff ff", "call -0x1 ; src=1"],
    ["85 20 00 00 2a 00 00 00", "call 0x2a ; src=2"],
    ["18 21 00 00 03 00 00 00 00 00 00 00 08 00 00 00", "ld_pseudo\tr1, 0x2, 0x3 ; imm2=0x8"],
    ["db 21 00 00 00 01 00 00", "lock *(u64 *)(r1 + 0x0) += r2 ; imm=0x100"],
    ["ff 21 00 00 00 00 00 00", "<unknown> ; code=0xff dst=1 src=2 off=0x0 imm=0x0"],
    ["48 10 00 00 05 00 00 00", "r0 = *(u16 *)skb[r1] ; imm=0x5"],
  ];
  for (const [bytes, text] of cases) {
    assert.equal(one(bytes), text, bytes);
    assert.deepEqual(encode(assembleLlvm(text)), hex(bytes), text);
  }
});

test("verifier-log syntax: decimal immediates and helper names", () => {
  const v = (bytes: string) => one(bytes, { syntax: "verifier", annotate: false });
  assert.equal(v("b7 00 00 00 2a 00 00 00"), "(b7) r0 = 42");
  assert.equal(v("85 00 00 00 01 00 00 00"), "(85) call bpf_map_lookup_elem#1");
  assert.equal(v("85 10 00 00 05 00 00 00"), "(85) call pc+5");
  assert.equal(v("85 20 00 00 07 00 00 00"), "(85) call kernel-function#7");
  assert.equal(v("85 00 00 00 e8 03 00 00"), "(85) call unknown#1000");
  assert.equal(v("15 01 02 00 ff ff ff ff"), "(15) if r1 == 0xffffffff goto pc+2");
  assert.equal(v("7b 1a f8 ff 00 00 00 00"), "(7b) *(u64 *)(r10 -8) = r1");
  assert.equal(v("61 12 10 00 00 00 00 00"), "(61) r2 = *(u32 *)(r1 +16)");
  assert.equal(v("db 21 00 00 01 00 00 00"), "(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)");
  assert.equal(v("c3 21 00 00 f1 00 00 00"), "(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)");
  assert.equal(v("50 10 00 00 03 00 00 00"), "(50) r0 = *(u8 *)skb[r1 + 3]");
  assert.equal(v("18 01 00 00 89 67 45 23 00 00 00 00 01 00 00 00"), "(18) r1 = 0x123456789");
  assert.equal(v("05 00 fd ff 00 00 00 00"), "(05) goto pc-3");
  assert.equal(v("d7 01 00 00 40 00 00 00"), "(d7) r1 = bswap64 r1");
  // and they assemble back
  for (const bytes of [
    "b7 00 00 00 2a 00 00 00",
    "85 00 00 00 01 00 00 00",
    "85 10 00 00 05 00 00 00",
    "85 20 00 00 07 00 00 00",
    "15 01 02 00 ff ff ff ff",
    "7b 1a f8 ff 00 00 00 00",
    "db 21 00 00 01 00 00 00",
    "c3 21 00 00 f1 00 00 00",
    "50 10 00 00 03 00 00 00",
    "18 01 00 00 89 67 45 23 00 00 00 00 01 00 00 00",
    "18 01 00 00 2a 00 00 00 00 00 00 00 00 00 00 00",
  ])
    assert.deepEqual(encode(assembleLlvm(`12: ${v(bytes)}\t; R0_w=0`)), hex(bytes), bytes);
});

test("assembler: labels, helper names, comments, objdump listings", () => {
  const prog = assembleLlvm(
    [
      "# a comment line",
      "entry:",
      "  r1 = 0 ll            // 16 bytes",
      "  call bpf_map_lookup_elem",
      "  call ktime_get_ns ; helper without prefix",
      "  if r0 == 0 goto out",
      "  r0 = *(u32 *)(r0 + 16)",
      "  call sub",
      "  gotol out",
      "out: exit",
      "sub:",
      "  r0 = 1",
      "  exit",
    ].join("\n"),
  );
  assert.deepEqual(
    prog.map((i) => [i.code, i.src, i.off, i.imm]),
    [
      [0x18, 0, 0, 0],
      [0x85, 0, 0, 1],
      [0x85, 0, 0, 5],
      [0x15, 0, 3, 0],
      [0x61, 0, 16, 0],
      [0x85, 1, 0, 2],
      [0x06, 0, 0, 0],
      [0x95, 0, 0, 0],
      [0xb7, 0, 0, 1],
      [0x95, 0, 0, 0],
    ],
  );
  const listing = [
    "",
    "x.o:\tfile format elf64-bpf",
    "",
    "Disassembly of section xdp:",
    "",
    "0000000000000000 <prog>:",
    "       0:\tb7 00 00 00 2a 00 00 00\tr0 = 0x2a",
    "       1:\t15 00 01 00 00 00 00 00\tif r0 == 0x0 goto +0x1 <prog+0x18>",
    "       2:\t18 01 00 00 01 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x1 ll",
    "\t\t0000000000000010:  R_BPF_64_64\tmy_map",
    "       4:\t95 00 00 00 00 00 00 00\texit",
  ].join("\n");
  assert.deepEqual(
    encode(assembleLlvm(listing)),
    hex(
      "b7 00 00 00 2a 00 00 00 15 00 01 00 00 00 00 00 18 01 00 00 01 00 00 00 00 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
    ),
  );
});

test("assembler errors name file:line and the reason", () => {
  const bad: [string, RegExp][] = [
    ["exit\nr0 = frob r1", /^prog\.s:2: cannot parse "r0 = frob r1"$/],
    ["goto nowhere", /^prog\.s:1: unknown label nowhere$/],
    ["r11 = 1", /no register r11/],
    ["r0 = *(u32 *)(r1 + 0x8000)", /memory offset .* out of range/],
    ["w0 += 0x100000000", /immediate .* out of range/],
    ["r0 = *(u8 *)skb[0x1]\nr1 = *(u8 *)skb[0x1]", /^prog\.s:2: packet loads write r0$/],
    ["a:\nexit\na:\nexit", /^prog\.s:3: label a defined twice$/],
    ["<unknown>", /needs all its fields/],
    ["(b7) r0 += 1", /opcode \(b7\) does not match/],
    ["if r1 == w2 goto +1", /expected r2, got w2/],
  ];
  for (const [text, re] of bad)
    assert.throws(
      () => assembleLlvm(text, "prog.s"),
      (e: unknown) => e instanceof ParseError && re.test(e.message),
      text,
    );
});

// ---- differential testing against llvm-objdump-19 -------------------------------------------

interface Listing {
  /** section name -> instruction texts */
  readonly sections: Map<string, string[]>;
}

/** llvm-objdump's text per section, normalizing whitespace and the ` <sym+0x..>` jump comments. */
function objdump(path: string, alu32: boolean): Listing {
  const out = execFileSync(
    "llvm-objdump-19",
    ["-d", "--no-show-raw-insn", ...(alu32 ? ["--mcpu=v3"] : []), path],
    {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    },
  );
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of out.split("\n")) {
    const s = /^Disassembly of section (.*):$/.exec(line);
    if (s) sections.set(s[1]!, (current = []));
    const m = /^\s*\d+:\t(.*)$/.exec(line);
    if (m) current.push(norm(m[1]!.replace(/\s+<[^<>]*>$/, "")));
  }
  return { sections };
}
const norm = (s: string) => s.replace(/\s+/g, " ").trim();

/** Compares every executable section of an object; returns the number of instructions checked. */
function compareObject(path: string): number {
  const elf = ElfFile.parse(readFileSync(path), path);
  let checked = 0;
  for (const alu32 of [false, true]) {
    const theirs = objdump(path, alu32).sections;
    for (const section of elf.executableSections) {
      if (section.size === 0) continue;
      const program = decode(section.data, { file: path });
      const ours = disassembleLlvm(program, { alu32, annotate: false }).map(norm);
      assert.deepEqual(ours, theirs.get(section.name), `${path} ${section.name} (alu32 ${alu32})`);
      const text = disassembleLlvm(program, { alu32 }).join("\n");
      assert.deepEqual(
        encode(assembleLlvm(text, `${path}:${section.name}`)),
        new Uint8Array(section.data),
        `${path} ${section.name} round trip`,
      );
      checked += program.length;
    }
  }
  return checked;
}

function objectsUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...objectsUnder(p));
    else if (name.endsWith(".o")) out.push(p);
  }
  return out;
}

test("matches llvm-objdump-19 on the bench objects and bpf/**/*.o", (t) => {
  if (!HAVE_OBJDUMP) return t.skip("llvm-objdump-19 not installed");
  const objects = [...objectsUnder(join(SHARED, "bench")), ...objectsUnder(join(REPO, "bpf"))];
  assert.ok(objects.length >= 5, "objects found");
  let n = 0;
  for (const o of objects) n += compareObject(o);
  t.diagnostic(`${objects.length} objects, ${n} instructions compared (both objdump CPU modes)`);
});

const C_SOURCE = String.raw`
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long long u64;
typedef signed char s8; typedef short s16; typedef int s32; typedef long long s64;
struct { int type; int max_entries; u32 *key; u64 *value; } table __attribute__((section(".maps")));
static void *(*lookup)(void *map, const void *key) = (void *) 1;
static long (*printk)(const char *fmt, u32 size, ...) = (void *) 6;
u64 counter; u32 counter32;
#if __BPF_CPU_VERSION__ >= 4
static __attribute__((noinline)) s64 sub(s64 a, s64 b) { return b ? a / b + a % b : a >> 3; }
#else
static __attribute__((noinline)) s64 sub(s64 a, s64 b) { return b ? (u64)a / (u64)b : a >> 3; }
#endif
__attribute__((noinline)) u64 gsub(u64 a) { return (a << 7) ^ (a >> 3) | 5; }
__attribute__((section("xdp"), used)) int prog(u32 *ctx) {
  u32 key = ctx[0];
  u64 *v = lookup(&table, &key);
  if (!v) return 1;
  s8 c = (s8)ctx[1]; s16 h = (s16)ctx[2]; s32 w = (s32)ctx[3];
  __sync_fetch_and_add(&counter, 1);
  u64 old = __sync_fetch_and_or(&counter, 2);
  __sync_fetch_and_add(&counter32, 3);
  u64 prev = __sync_val_compare_and_swap(&counter, old, 7);
  u64 x = __sync_lock_test_and_set(&counter, 9);
  u64 sw = __builtin_bswap64(*v) + __builtin_bswap32(key) + __builtin_bswap16((u16)key);
  for (int i = 0; i < 4; i++) if (ctx[i] > 10) x += (u64)ctx[i] * 3; else if ((s32)ctx[i] < -5) x -= i;
  printk("x %d", 5, (int)x);
  return (int)(sub(c + h + w, prev) + gsub(x) + sw);
}
char LICENSE[] __attribute__((section("license"))) = "GPL";
`;

test("matches llvm-objdump-19 on C compiled for -mcpu=v2, v3 and v4", (t) => {
  if (!HAVE_CLANG || !HAVE_OBJDUMP) return t.skip("clang-19 or llvm-objdump-19 not installed");
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-llvm-"));
  try {
    const src = join(dir, "prog.c");
    writeFileSync(src, C_SOURCE);
    for (const cpu of ["v2", "v3", "v4"]) {
      const obj = join(dir, `prog-${cpu}.o`);
      execFileSync("clang-19", ["-O2", "-g", "-target", "bpf", `-mcpu=${cpu}`, "-c", src, "-o", obj]);
      assert.ok(compareObject(obj) > 50, cpu);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every opcode with a spread of field values, kept where the kernel's encoding rules accept it. */
function validEncodings(): Instruction[] {
  const out: Instruction[] = [];
  const imms = [
    0, 1, 8, 16, 32, 64, -5, 0x7fffffff, -0x80000000, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1,
  ];
  const offs = [0, 1, 8, 16, 32, -3, 0x7fff, -0x8000];
  for (let code = 0; code < 256; code++) {
    if (code === 0x18) continue;
    for (const [dst, src] of [
      [1, 2],
      [0, 0],
      [10, 3],
      [0, 1],
      [0, 2],
    ] as const)
      for (const off of offs)
        for (const imm of imms) {
          const insn = { code, dst, src, off, imm };
          if (checkInstruction(insn) === undefined) out.push(insn);
        }
  }
  for (const [src, imm, imm2] of [
    [0, 1, 0],
    [0, -1, -1],
    [0, 0, -0x80000000],
    [1, 3, 0],
    [2, 3, 8],
    [3, 5, 0],
    [4, 2, 0],
    [5, 1, 0],
    [6, 1, 4],
  ] as const)
    out.push({ code: 0x18, dst: 1, src, off: 0, imm, imm2 });
  return out;
}

test("matches llvm-objdump-19 on every valid opcode with varied fields", (t) => {
  if (!HAVE_CLANG || !HAVE_OBJDUMP) return t.skip("clang-19 or llvm-objdump-19 not installed");
  const program = validEncodings();
  const bytes = encode(program);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-llvm-"));
  try {
    const asm = join(dir, "all.s");
    const lines = ["\t.text", "f:"];
    for (let i = 0; i < bytes.length; i += 8)
      lines.push(`\t.byte ${Array.from(bytes.subarray(i, i + 8)).join(",")}`);
    writeFileSync(asm, lines.join("\n") + "\n");
    const obj = join(dir, "all.o");
    execFileSync("clang-19", ["-target", "bpf", "-c", asm, "-o", obj]);
    const n = compareObject(obj);
    t.diagnostic(`${program.length} distinct valid encodings, ${n} instruction comparisons`);
    assert.ok(program.length > 500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("round trip of arbitrary 8-byte slots through the annotated text", () => {
  let s = 0x12345;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, rand(), true);
    new DataView(bytes.buffer).setUint32(4, rand(), true);
    if (bytes[0] === 0x18) bytes[0] = 0x19;
    const [insn] = decode(bytes, { validate: false });
    for (const syntax of ["llvm", "verifier"] as const) {
      const text = formatInstruction(insn!, { syntax });
      assert.deepEqual(encode(assembleLlvm(text)), bytes, `${syntax}: ${text}`);
    }
  }
});
