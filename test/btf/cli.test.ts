import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { main } from "../../src/cli/main.js";
import type { CommandIO } from "../../src/cli/command.js";
import { benchObjects, noVmlinux, VMLINUX } from "./fixtures.js";

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

const hashmap = () => benchObjects().find((p) => p.endsWith("hashmap.bpf.o"))!;

test("btf dump OBJ prints the .BTF section like bpftool's raw format", async (t) => {
  const io = capture();
  assert.equal(await main(["btf", "dump", hashmap()], io), 0);
  assert.deepEqual(io.stderr, []);
  const ours = io.stdout.join("");
  assert.match(ours, /^\[1\] PTR '\(anon\)' type_id=3\n/);
  if (spawnSync("bpftool", ["version"], { stdio: "ignore" }).status !== 0) {
    t.skip("bpftool not installed: compared with the expected first line only");
    return;
  }
  assert.equal(
    ours,
    execFileSync("bpftool", ["btf", "dump", "file", hashmap(), "format", "raw"], { encoding: "utf8" }),
  );
});

test("btf dump --format c prints a header", async () => {
  const io = capture();
  assert.equal(await main(["btf", "dump", hashmap(), "--format=c"], io), 0);
  const c = io.stdout.join("");
  assert.match(c, /^#ifndef __VMLINUX_H__\n/);
  assert.match(c, /struct xdp_md \{\n\t__u32 data;/);
});

test("btf dump of the kernel's BTF", { skip: noVmlinux }, async () => {
  const io = capture();
  assert.equal(await main(["btf", "dump", VMLINUX, "-f", "c"], io), 0);
  assert.match(io.stdout.join(""), /\nstruct task_struct \{\n/);
});

test("btf: bad input and usage exit 2 with one line", async () => {
  for (const [args, re] of [
    [["btf", "dump", "/nonexistent.btf"], /cannot read \(no such file\)/],
    [["btf", "dump", "/etc/hostname"], /offset 0: bad BTF magic|truncated BTF header/],
    [["btf", "dump"], /missing FILE/],
    [["btf", "list"], /unknown subcommand 'list'/],
    [["btf", "dump", hashmap(), "--format", "json"], /unknown format 'json'/],
  ] as const) {
    const io = capture();
    assert.equal(await main([...args], io), 2, args.join(" "));
    assert.match(io.stderr.join(""), re);
    assert.equal(io.stderr.join("").split("\n")[0]!.startsWith("tsbpf btf: "), true);
  }
});
