import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { FormatError } from "../../src/errors.js";
import {
  ElfFile,
  EM_BPF,
  ET_REL,
  R_BPF_64_64,
  SHF_EXECINSTR,
  SHT_REL,
  SHT_SYMTAB,
  STB_GLOBAL,
  STT_FUNC,
  STT_OBJECT,
} from "../../src/elf/index.js";

// The repository root, whether this runs from test/ (tsx) or dist/test/ (compiled).
const REPO = ["../..", "../../.."]
  .map((up) => new URL(up, import.meta.url).pathname)
  .find((dir) => existsSync(join(dir, "package.json")))!;
const SHARED = process.env.TSBPF_SHARED ?? join(REPO, "../shared");
const BENCH = join(SHARED, "bench");
const objects = readdirSync(BENCH)
  .filter((n) => n.endsWith(".bpf.o"))
  .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(BENCH, n))) }));

function readelf(args: string[], path: string): string | undefined {
  try {
    return execFileSync("llvm-readelf-19", [...args, path], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}

test("bench objects exist", () => assert.ok(objects.length >= 3, `objects in ${BENCH}`));

test("parses the header, sections, symbols and relocations of a BPF object", () => {
  const elf = ElfFile.parse(readFileSync(join(BENCH, "hashmap.bpf.o")), "hashmap.bpf.o");
  assert.equal(elf.machine, EM_BPF);
  assert.equal(elf.type, ET_REL);
  assert.equal(elf.file, "hashmap.bpf.o");
  const xdp = elf.section("xdp");
  assert.ok(xdp);
  assert.ok(xdp.flags & SHF_EXECINSTR);
  assert.equal(xdp.data.length, xdp.size);
  assert.equal(xdp.size % 8, 0);
  assert.equal(elf.section(".symtab")?.type, SHT_SYMTAB);
  assert.equal(elf.section(".relxdp")?.type, SHT_REL);
  const prog = elf.symbol("hashmap");
  assert.ok(prog);
  assert.equal(prog.type, STT_FUNC);
  assert.equal(prog.bind, STB_GLOBAL);
  assert.equal(prog.sectionIndex, xdp.index);
  assert.equal(elf.symbol("table")?.type, STT_OBJECT);
  assert.equal(elf.symbol("table")?.sectionIndex, elf.section(".maps")?.index);
  const relocs = elf.relocationsFor(xdp);
  assert.ok(relocs.length > 0);
  for (const r of relocs) {
    assert.equal(r.type, R_BPF_64_64);
    assert.equal(r.symbol.name, "table");
    assert.equal(r.symbol, elf.symbols[r.symbolIndex]);
    assert.equal(xdp.data[r.offset], 0x18, "R_BPF_64_64 points at an lddw");
    assert.equal(r.addend, undefined);
  }
  assert.deepEqual(elf.relocationsFor(elf.section("license")!), []);
  assert.deepEqual(
    elf.symbolsIn(xdp).map((s) => s.name),
    elf.symbolsIn(xdp).map((s) => s.name),
  );
});

test("agrees with llvm-readelf on every bench object", (t) => {
  if (!readelf(["--version"], "")) return t.skip("llvm-readelf-19 not installed");
  for (const { name } of objects) {
    const path = join(BENCH, name);
    const elf = ElfFile.parse(readFileSync(path), name);
    const sectionLines = readelf(["-S", "-W"], path)!
      .split("\n")
      .map((l) => /^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1] !== "0");
    const named = elf.sections.filter((s) => s.index !== 0);
    assert.equal(sectionLines.length, named.length, name);
    for (const m of sectionLines) {
      const s = elf.sections[Number(m[1])]!;
      assert.equal(s.name, m[2]);
      assert.equal(s.offset, parseInt(m[3]!, 16));
      assert.equal(s.size, parseInt(m[4]!, 16));
    }
    const relocLines = readelf(["-r", "-W"], path)!
      .split("\n")
      .filter((l) => /^[0-9a-f]{16}\s/.test(l));
    let total = 0;
    for (const s of elf.sections) total += elf.relocationsFor(s).length;
    assert.equal(total, relocLines.length, name);
    const symCount = /Symbol table '.symtab' contains (\d+) entries/.exec(readelf(["-s", "-W"], path)!);
    assert.equal(elf.symbols.length, Number(symCount?.[1]), name);
  }
});

// ---- malformed input ---------------------------------------------------------------------

const base = objects.find((o) => o.name === "hashmap.bpf.o")!.bytes;
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const shoff = Number(view(base).getBigUint64(40, true));
const shdr = (i: number) => shoff + i * 64;
const sectionIndex = (name: string) => ElfFile.parse(base).section(name)!.index;

function mutated(edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = base.slice();
  edit(view(b), b);
  return b;
}

function rejects(bytes: Uint8Array, pattern: RegExp, offset?: number) {
  assert.throws(
    () => {
      const elf = ElfFile.parse(bytes, "bad.o");
      for (const s of elf.sections) elf.relocationsFor(s);
    },
    (e: unknown) => {
      assert.ok(e instanceof FormatError, `expected FormatError, got ${String(e)}`);
      assert.match(e.message, /^bad\.o: offset \d+: /);
      assert.match(e.message, pattern);
      if (offset !== undefined) assert.equal(e.offset, offset);
      return true;
    },
  );
}

test("rejects non-ELF, ELF32 and big-endian input naming the offset", () => {
  rejects(new Uint8Array(0), /not an ELF file/, 0);
  rejects(new TextEncoder().encode("hello world, not elf"), /bad magic/, 0);
  rejects(
    mutated((v) => v.setUint8(4, 1)),
    /ELF class 1 not supported \(only ELF64\)/,
    4,
  );
  rejects(
    mutated((v) => v.setUint8(5, 2)),
    /only little endian/,
    5,
  );
  rejects(base.subarray(0, 40), /extends past the end of the file/, 0);
});

test("rejects out-of-file tables, bad indexes and huge counts", () => {
  rejects(base.subarray(0, base.length - 10), /section header table/);
  rejects(
    mutated((v) => v.setBigUint64(40, 0xffffffffffffn, true)),
    /section header 0/,
  );
  rejects(
    mutated((v) => v.setBigUint64(40, 0xffffffffffffffffn, true)),
    /section header offset .* too large/,
    40,
  );
  rejects(
    mutated((v) => v.setUint16(60, 0xffff, true)),
    /section header table \(65535 x 64 bytes\)/,
  );
  rejects(
    mutated((v) => v.setUint16(58, 12, true)),
    /section header size 12/,
    58,
  );
  rejects(
    mutated((v) => v.setUint16(62, 400, true)),
    /section name table index 400 out of range/,
    62,
  );
  const xdp = sectionIndex("xdp");
  rejects(
    mutated((v) => v.setBigUint64(shdr(xdp) + 32, 0x7fffffffn, true)),
    /section \d+ data/,
  );
  rejects(
    mutated((v) => v.setUint32(shdr(xdp), 0xfffffff0, true)),
    /section \d+ name: string index 4294967280 is outside/,
    shdr(xdp),
  );
  // symbols: entry size, string table link, section index
  const symtab = sectionIndex(".symtab");
  rejects(
    mutated((v) => v.setBigUint64(shdr(symtab) + 56, 0n, true)),
    /symbol table entry size 0/,
  );
  rejects(
    mutated((v) => v.setUint32(shdr(symtab) + 40, 999, true)),
    /string section 999 out of range/,
  );
  const symOff = ElfFile.parse(base).section(".symtab")!.offset;
  rejects(
    mutated((v) => v.setUint16(symOff + 24 * 3 + 6, 900, true)),
    /symbol 3 section index 900 out of range/,
    symOff + 24 * 3 + 6,
  );
  rejects(
    mutated((v) => v.setUint32(symOff + 24 * 2, 0x100000, true)),
    /symbol 2 name: string index/,
  );
  // relocations: symbol index and offset
  const relOff = ElfFile.parse(base).section(".relxdp")!.offset;
  rejects(
    mutated((v) => v.setUint32(relOff + 12, 5000, true)),
    /relocation symbol index 5000 out of range/,
    relOff + 12,
  );
  rejects(
    mutated((v) => v.setBigUint64(relOff, 0x100000n, true)),
    /relocation offset 1048576 is outside xdp/,
    relOff,
  );
});

test("an unterminated string table is a FormatError", () => {
  const strtab = ElfFile.parse(base).section(".strtab")!;
  const bytes = mutated((v, b) => b.fill(0x41, strtab.offset, strtab.offset + strtab.size));
  rejects(bytes, /not NUL-terminated/);
});

// ---- fuzzing -----------------------------------------------------------------------------

/** xorshift32: deterministic, so a failure names a reproducible seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 24, 64, 16];

function mutate(src: Uint8Array, rand: (n: number) => number): Uint8Array {
  let b = src.slice();
  const v = view(b);
  const shoff = Number(v.getBigUint64(40, true));
  const edits = 1 + rand(4);
  for (let e = 0; e < edits; e++) {
    // Most edits hit the structures the reader interprets: the ELF header, the section header
    // table, the symbol table and relocations; the rest hit anywhere.
    const region = rand(4);
    let at: number;
    if (region === 0) at = rand(64);
    else if (region === 1 && shoff < b.length) at = shoff + rand(b.length - shoff);
    else at = rand(b.length);
    const kind = rand(5);
    if (kind === 0) b[at] = rand(256);
    else if (kind === 1) b[at] = b[at]! ^ (1 << rand(8));
    else if (kind === 2 && at + 4 <= b.length) v.setUint32(at, INTERESTING[rand(INTERESTING.length)]!, true);
    else if (kind === 3 && at + 8 <= b.length)
      v.setBigUint64(at, BigInt(rand(0x10000)) << BigInt(rand(48)), true);
    else if (kind === 4 && rand(8) === 0) b = b.subarray(0, rand(b.length));
  }
  return b;
}

test("10,000 mutations of real objects only ever raise FormatError", () => {
  const rand = rng(0x5eed);
  let parsed = 0;
  let rejected = 0;
  const N = 10_000;
  for (let i = 0; i < N; i++) {
    const obj = objects[i % objects.length]!;
    const bytes = mutate(obj.bytes, rand);
    try {
      const elf = ElfFile.parse(bytes, obj.name);
      for (const s of elf.sections) {
        void s.data.length;
        elf.relocationsFor(s);
      }
      parsed++;
    } catch (e) {
      if (!(e instanceof FormatError))
        assert.fail(`mutation ${i} of ${obj.name}: ${e instanceof Error ? e.stack : String(e)}`);
      rejected++;
    }
  }
  assert.equal(parsed + rejected, N);
  assert.ok(rejected > N / 10, `only ${rejected} mutations rejected: the fuzzer is not reaching the parser`);
});
