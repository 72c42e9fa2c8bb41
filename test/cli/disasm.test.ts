import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import type { CommandIO } from "../../src/cli/command.js";
import { ElfFile } from "../../src/elf/index.js";
import { encode } from "../../src/isa/codec.js";
import { assembleLlvm } from "../../src/isa/llvm/index.js";

// The repository root, whether this runs from test/ (tsx) or dist/test/ (compiled).
const REPO = ["../..", "../../.."]
  .map((up) => new URL(up, import.meta.url).pathname)
  .find((dir) => existsSync(join(dir, "package.json")))!;
const SHARED = process.env.TSBPF_SHARED ?? join(REPO, "../shared");
const BENCH = join(SHARED, "bench");
const OBJECTS = readdirSync(BENCH)
  .filter((n) => n.endsWith(".bpf.o"))
  .map((n) => join(BENCH, n));

function capture(): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    readStdin: async () => "",
  };
}

async function disasm(...args: string[]) {
  const io = capture();
  const code = await main(["disasm", ...args], io);
  return { code, out: io.stdout.join("\n"), err: io.stderr.join("\n") };
}

async function withDir(f: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-disasm-"));
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (s: string) => Uint8Array.from(s.match(/[0-9a-f]{2}/g)!.map((b) => parseInt(b, 16)));
const norm = (text: string) =>
  text
    .split("\n")
    .map((l) =>
      l
        .replace(/ ; .*$/, "")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter(Boolean);

test("an ELF object prints like llvm-objdump-19 -d --no-show-raw-insn", async (t) => {
  let objdump: (path: string) => string;
  try {
    execFileSync("llvm-objdump-19", ["--version"], { stdio: "ignore" });
    objdump = (p) => execFileSync("llvm-objdump-19", ["-d", "--no-show-raw-insn", p], { encoding: "utf8" });
  } catch {
    return t.skip("llvm-objdump-19 not installed");
  }
  for (const path of OBJECTS) {
    const r = await disasm(path);
    assert.equal(r.code, 0, r.err);
    // objdump's banner line names the file; everything after it must match
    const theirs = norm(objdump(path)).slice(1);
    assert.deepEqual(norm(r.out), theirs, path);
  }
});

test("--section selects one section, and its text assembles back to the same bytes", async () => {
  const path = join(BENCH, "parse.bpf.o");
  const elf = ElfFile.parse(readFileSync(path));
  const code = elf.executableSections.find((s) => s.size > 0)!;
  const r = await disasm(path, "--section", code.name);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^Disassembly of section ${code.name}:\n\n0{16} <\\w+>:\n`));
  assert.deepEqual(encode(assembleLlvm(r.out, "parse.s")), new Uint8Array(code.data));
  const v = await disasm(path, "--section", code.name, "--syntax", "verifier");
  assert.equal(v.code, 0, v.err);
  assert.match(v.out, /\(95\) exit/);
});

test("raw bytecode in llvm, verifier and conformance syntax", async () => {
  await withDir(async (dir) => {
    const bin = join(dir, "prog.bin");
    writeFileSync(
      bin,
      hex("b7 00 00 00 2a 00 00 00 15 01 01 00 00 00 00 00 85 00 00 00 01 00 00 00 95 00 00 00 00 00 00 00"),
    );
    const llvm = await disasm(bin);
    assert.equal(llvm.code, 0, llvm.err);
    assert.equal(
      llvm.out,
      [
        "       0:\tr0 = 0x2a",
        "       1:\tif r1 == 0x0 goto +0x1",
        "       2:\tcall 0x1",
        "       3:\texit",
      ].join("\n"),
    );
    const verifier = await disasm(bin, "--syntax=verifier");
    assert.match(verifier.out, /2:\t\(85\) call bpf_map_lookup_elem#1/);
    const conformance = await disasm(bin, "--syntax", "conformance");
    assert.equal(conformance.code, 0, conformance.err);
    assert.equal(conformance.out, "mov %r0, 0x2a\njeq %r1, 0, L3\ncall 1\nL3:\nexit");
  });
});

test("bad input: exit 2 and one line naming file and offset", async () => {
  await withDir(async (dir) => {
    const short = join(dir, "short.bin");
    writeFileSync(short, hex("b7 00 00 00 2a 00 00 00 95 00 00 00"));
    let r = await disasm(short);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^tsbpf disasm: ${short}: offset 8: .*not a multiple of 8$`));

    const invalid = join(dir, "invalid.bin");
    writeFileSync(invalid, hex("b7 00 00 00 2a 00 00 00 ff 00 00 00 00 00 00 00"));
    r = await disasm(invalid, "--syntax", "conformance");
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^tsbpf disasm: ${invalid}: offset 8: `));
    assert.equal(r.err.split("\n").length, 1);
    r = await disasm(invalid); // llvm syntax shows what it cannot decode, as objdump does
    assert.equal(r.code, 0);
    assert.match(r.out, /1:\t<unknown> ; code=0xff dst=0 src=0 off=0x0 imm=0x0/);

    const elf = new Uint8Array(readFileSync(OBJECTS[0]!));
    elf[4] = 1; // ELF32
    const bad = join(dir, "bad.o");
    writeFileSync(bad, elf);
    r = await disasm(bad);
    assert.equal(r.code, 2);
    assert.equal(r.err, `tsbpf disasm: ${bad}: offset 4: ELF class 1 not supported (only ELF64)`);

    const truncated = join(dir, "truncated.o");
    writeFileSync(truncated, readFileSync(OBJECTS[0]!).subarray(0, 200));
    r = await disasm(truncated);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^tsbpf disasm: ${truncated}: offset \\d+: `));
    assert.equal(r.err.split("\n").length, 1);

    r = await disasm(join(dir, "missing.bin"));
    assert.equal(r.code, 2);
    assert.match(r.err, /missing\.bin: cannot read \(no such file\)$/);

    r = await disasm(OBJECTS[0]!, "--section", "nope");
    assert.equal(r.code, 2);
    assert.match(r.err, /no executable section 'nope'$/);
  });
  const usage = await disasm("--syntax", "att", "x.bin");
  assert.equal(usage.code, 2);
  assert.match(usage.err, /unknown syntax 'att'/);
});

/** Every compiled object of the repository and the bench. */
function allObjects(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allObjects(join(dir, e.name)) : e.name.endsWith(".o") ? [join(dir, e.name)] : [],
  );
}

test("disasm -r prints ELF and CO-RE relocations as llvm-objdump-19 -dr does, on every object", async (t) => {
  try {
    execFileSync("llvm-objdump-19", ["--version"], { stdio: "ignore" });
  } catch {
    return t.skip("llvm-objdump-19 not installed");
  }
  const objects = [...allObjects(join(REPO, "bpf")), ...OBJECTS];
  let relocations = 0;
  for (const o of objects) {
    const theirs = execFileSync("llvm-objdump-19", ["-dr", "--no-show-raw-insn", o], { encoding: "utf8" })
      .split("\n")
      .slice(3) // blank, "FILE: file format elf64-bpf", blank
      .join("\n")
      .trimEnd();
    const ours = await disasm(o, "-r");
    assert.equal(ours.code, 0, ours.err);
    // our ` ; src=1`-style comments keep the text re-assemblable; objdump has none
    assert.equal(ours.out.replace(/ ; .*$/gm, ""), theirs, o);
    relocations += (theirs.match(/^\t\t[0-9a-f]{16}: {2}/gm) ?? []).length;
  }
  assert.ok(relocations > 500, `${relocations} relocations compared`);
  t.diagnostic(`${objects.length} objects, ${relocations} relocations (ELF and CO-RE)`);
});
