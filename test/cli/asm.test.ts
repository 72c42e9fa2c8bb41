import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import type { CommandIO } from "../../src/cli/command.js";

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

async function withDir(f: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-asm-"));
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ADD42 = "# the guide's program\nldxw %r0, [%r1]\nadd32 %r0, 42\nexit\n";
const ADD42_HEX = "61 10 00 00 00 00 00 00\n04 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00";

test("asm FILE writes FILE.bin next to it", async () => {
  await withDir(async (dir) => {
    const src = join(dir, "add42.asm");
    writeFileSync(src, ADD42);
    const io = capture();
    assert.equal(await main(["asm", src], io), 0);
    assert.deepEqual(io.stderr, []);
    assert.equal(
      Buffer.from(readFileSync(join(dir, "add42.bin"))).toString("hex"),
      ADD42_HEX.replace(/\s/g, ""),
    );
  });
});

test("asm -o OUT writes OUT; -o - prints hex slots", async () => {
  await withDir(async (dir) => {
    const src = join(dir, "p.asm");
    writeFileSync(src, ADD42);
    const out = join(dir, "custom.o");
    assert.equal(await main(["asm", src, "-o", out], capture()), 0);
    assert.equal(readFileSync(out).length, 24);
    const io = capture();
    assert.equal(await main(["asm", "-o", "-", src], io), 0);
    assert.equal(io.stdout.join("\n"), ADD42_HEX);
  });
});

test("asm of a conformance .data file assembles its -- asm section", async () => {
  await withDir(async (dir) => {
    const src = join(dir, "t.data");
    writeFileSync(src, "# SPDX\n-- asm\nlddw %r0, 0x1122334455667788\nexit\n-- result\n0x1122334455667788\n");
    const io = capture();
    assert.equal(await main(["asm", src, "-o", "-"], io), 0);
    assert.equal(
      io.stdout.join("\n"),
      "18 00 00 00 88 77 66 55\n00 00 00 00 44 33 22 11\n95 00 00 00 00 00 00 00",
    );
  });
});

test("bad input exits 2 with one line naming FILE:LINE", async () => {
  await withDir(async (dir) => {
    const src = join(dir, "bad.asm");
    writeFileSync(src, "mov %r0, 0\n\nor %r0, %r50\nexit\n");
    const io = capture();
    assert.equal(await main(["asm", src], io), 2);
    assert.deepEqual(io.stderr, [`tsbpf asm: ${src}:3: invalid register '%r50' (expected %r0..%r10)`]);
    assert.equal(existsSync(join(dir, "bad.bin")), false);

    const data = join(dir, "bad.data");
    writeFileSync(data, "# c\n-- asm\nexit\nldxq %r0, %r1\n-- result\n0\n");
    const io2 = capture();
    assert.equal(await main(["asm", data, "-o", "-"], io2), 2);
    assert.deepEqual(io2.stderr, [`tsbpf asm: ${data}:4: unknown mnemonic 'ldxq'`]);

    const noAsm = join(dir, "none.data");
    writeFileSync(noAsm, "-- result\n0\n");
    const io3 = capture();
    assert.equal(await main(["asm", noAsm], io3), 2);
    assert.deepEqual(io3.stderr, [`tsbpf asm: ${noAsm}: no '-- asm' section`]);

    const io4 = capture();
    const missing = join(dir, "missing.asm");
    assert.equal(await main(["asm", missing], io4), 2);
    assert.deepEqual(io4.stderr, [`tsbpf asm: ${missing}: cannot read (no such file)`]);
  });
});

test("usage errors exit 2", async () => {
  for (const args of [
    ["asm"],
    ["asm", "a.asm", "--syntax", "gas"],
    ["asm", "a.asm", "--bogus"],
    ["asm", "a", "b"],
  ]) {
    const io = capture();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.stderr.join("\n"), /^tsbpf asm: .*\nusage: tsbpf asm FILE/);
  }
});

test("--syntax llvm (default for .s) goes to the llvm assembler, or says it is missing", async () => {
  await withDir(async (dir) => {
    const src = join(dir, "p.s");
    writeFileSync(src, "r0 = 0\nexit\n");
    const io = capture();
    const code = await main(["asm", src, "-o", "-"], io);
    if (code === 0) assert.equal(io.stdout.join("\n"), "b7 00 00 00 00 00 00 00\n95 00 00 00 00 00 00 00");
    else {
      assert.equal(code, 2);
      assert.equal(io.stderr.length, 1);
      assert.match(io.stderr[0]!, /^tsbpf asm: /);
    }
    // --syntax conformance overrides the extension
    writeFileSync(src, "mov %r0, 0\nexit\n");
    const io2 = capture();
    assert.equal(await main(["asm", src, "--syntax=conformance", "-o", "-"], io2), 0);
    assert.equal(io2.stdout.join("\n"), "b7 00 00 00 00 00 00 00\n95 00 00 00 00 00 00 00");
  });
});
