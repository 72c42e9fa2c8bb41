import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runConformanceTest } from "../../src/vm/conformance/runner.js";
import { sharedPath } from "../helpers/shared.js";

const suite = sharedPath("conformance", "bpf_conformance");
const files = (dir: string) =>
  readdirSync(join(suite, dir))
    .filter((n) => n.endsWith(".data"))
    .map((n) => join(suite, dir, n));

test("every test of the BPF conformance suite passes in the interpreter", () => {
  const tests = files("tests");
  assert.equal(tests.length, 313);
  const failures = tests
    .map((f) => runConformanceTest(readFileSync(f, "utf8"), f))
    .filter((o) => o.status !== "pass")
    .map((o) => `${o.file}: ${o.reason}`);
  assert.deepEqual(failures, []);
});

test("every negative case is rejected with a one-line reason that is not an internal error", () => {
  const negative = files("negative");
  assert.ok(negative.length >= 60);
  for (const f of negative) {
    const o = runConformanceTest(readFileSync(f, "utf8"), f);
    assert.equal(o.status, "fail", `${f} was accepted`);
    assert.ok(o.reason && !o.reason.includes("\n"), `${f}: multi-line reason`);
    assert.doesNotMatch(o.reason!, /internal error/, f);
  }
});

test("a wrong expected result and an expected error are reported precisely", () => {
  const wrong = runConformanceTest("-- asm\nmov %r0, 7\nexit\n-- result\n0x8\n", "w.data");
  assert.equal(wrong.reason, "r0 = 0x7, expected 0x8");
  const fault = runConformanceTest(
    "-- asm\nldxw %r0, [%r1+4]\nexit\n-- mem\n00 00\n-- result\n0\n",
    "f.data",
  );
  assert.match(fault.reason!, /^error: .*pc 0 .*out of bounds/);
  const expected = runConformanceTest(
    "-- asm\nldxw %r0, [%r1+4]\nexit\n-- mem\n00 00\n-- error\nout of bounds\n",
    "e.data",
  );
  assert.equal(expected.status, "pass");
});
