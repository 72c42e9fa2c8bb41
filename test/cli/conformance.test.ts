import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { sharedPath, tsbpfBin } from "../helpers/shared.js";

const tsbpf = (args: string[], input?: string) =>
  spawnSync(process.execPath, [tsbpfBin, ...args], { encoding: "utf8", input: input ?? "" });

test("tsbpf conformance prints the summary line and exits 0 on the whole suite", () => {
  const r = tsbpf(["conformance", sharedPath("conformance", "bpf_conformance", "tests")]);
  assert.equal(r.stdout.trim(), "313 passed, 0 failed");
  assert.equal(r.status, 0);
});

test("tsbpf conformance --expect-reject rejects every negative case", () => {
  const r = tsbpf([
    "conformance",
    "--expect-reject",
    sharedPath("conformance", "bpf_conformance", "negative"),
  ]);
  assert.match(r.stdout, /^60 rejected, 0 accepted$/m);
  assert.equal(r.status, 0);
});

test("plugin protocol: memory as argv hex, program as hex on stdin, r0 in hex", () => {
  // r0 = 42; r1 = *(u32 *)(r1 + 0); r0 += r1; exit   with memory 05 00 00 00
  const program =
    "b7 00 00 00 2a 00 00 00 61 11 00 00 00 00 00 00 0f 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00";
  const ok = tsbpf(["conformance", "--plugin", "05  00  00  00  ", ""], program + "\n");
  assert.equal(ok.stdout.trim(), "2f");
  assert.equal(ok.status, 0);
  const bad = tsbpf(["conformance", "--plugin", ""], "ff 00 00 00 00 00 00 00\n");
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /unknown opcode 0xff/);
});

test("tsbpf exec runs assembly, traces, and reports faults with exit code 1", () => {
  const run = tsbpf(["exec", sharedPath("conformance", "bpf_conformance", "tests", "call_local.data")]);
  assert.match(run.stdout, /^r0 = 0x1 \(1\)$/m);
  const traced = tsbpf([
    "exec",
    "--trace",
    sharedPath("conformance", "bpf_conformance", "tests", "add.data"),
  ]);
  assert.match(traced.stdout, /add32 %r0, %r1\s+r0 0x1 -> 0x3/);
  const usage = tsbpf(["exec"]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /missing FILE/);
});
