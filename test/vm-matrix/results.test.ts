import assert from "node:assert/strict";
import { test } from "node:test";
import type { TestRecord } from "./reporter.js";
import { count, parseRecords, runOk, skippedEverywhere, testId, type KernelRun } from "./results.js";
import { README_BEGIN, README_END, renderFeatureTable, renderTable, spliceReadme } from "./table.js";

const rec = (
  status: TestRecord["status"],
  path: string[],
  reason?: string,
  kind: TestRecord["kind"] = "test",
): TestRecord => ({
  status,
  kind,
  file: "dist/test/kernel/links/kprobe.test.js",
  path,
  reason,
  ms: 1,
});

const kernel = (name: string, records: TestRecord[], exitCode = 0): KernelRun => ({
  name,
  release: `${name}.0`,
  source: "test",
  exitCode,
  records,
  features: {
    release: `${name}.0`,
    features: {
      kprobe: {
        present: name !== "host",
        note: name !== "host" ? "kprobe PMU" : "no PMU",
        description: "kprobes",
      },
    },
  },
  bootSeconds: 1,
  testSeconds: 2,
});

const KPROBE_SKIP = "requires kprobe (no kprobe PMU (/sys/bus/event_source/devices/kprobe))";

test("testId names the TypeScript source and the suite path", () => {
  assert.equal(testId(rec("pass", ["suite", "t"])), "test/kernel/links/kprobe.test.ts > suite > t");
});

test("count separates feature skips from other skips and counts suites only when skipped or failing alone", () => {
  const c = count([
    rec("pass", ["s", "a"]),
    rec("skip", ["s", "b"], KPROBE_SKIP),
    rec("skip", ["s", "c"], "bpftool not installed"),
    rec("fail", ["s", "d"], "boom"),
    rec("fail", ["s"], "1 subtest failed", "suite"),
    rec("pass", ["s2"], undefined, "suite"),
    rec("fail", ["s3"], "before hook threw", "suite"),
    rec("skip", ["s4"], KPROBE_SKIP, "suite"),
  ]);
  assert.deepEqual(c, { pass: 1, fail: 2, skipFeature: 2, skipOther: 1, todo: 0 });
});

test("parseRecords ignores a line torn by a dying guest", () => {
  const text = `${JSON.stringify(rec("pass", ["a"]))}\n{"status":"pa`;
  assert.equal(parseRecords(text).length, 1);
});

test("runOk needs an exit code of 0, no failure and no harness problem", () => {
  assert.equal(runOk(kernel("6.1", [rec("pass", ["a"])])), true);
  assert.equal(runOk(kernel("6.1", [rec("pass", ["a"])], 1)), false);
  assert.equal(runOk(kernel("6.1", [rec("fail", ["a"])])), false);
  assert.equal(runOk({ ...kernel("6.1", []), exitCode: undefined, problem: "no exit code" }), false);
});

test("skippedEverywhere reports a feature-skipped test only when no kernel ran it", () => {
  const runs = [
    kernel("host", [rec("skip", ["k", "fires"], KPROBE_SKIP), rec("skip", ["k", "multi"], KPROBE_SKIP)]),
    kernel("6.1", [
      rec("pass", ["k", "fires"]),
      rec("skip", ["k", "multi"], "requires kprobe-multi (EOPNOTSUPP)"),
    ]),
  ];
  const never = skippedEverywhere(runs);
  assert.deepEqual(
    never.map((n) => n.id),
    ["test/kernel/links/kprobe.test.ts > k > multi"],
  );
  assert.equal(never[0]!.reasons.length, 2);
});

test("skippedEverywhere: a suite skipped on one kernel counts as run where its tests ran", () => {
  const runs = [
    kernel("host", [rec("skip", ["kprobes"], KPROBE_SKIP, "suite")]),
    kernel("6.1", [rec("pass", ["kprobes", "fires"]), rec("pass", ["kprobes"], undefined, "suite")]),
  ];
  assert.deepEqual(skippedEverywhere(runs), []);
});

test("skippedEverywhere ignores skips for other reasons", () => {
  assert.deepEqual(skippedEverywhere([kernel("host", [rec("skip", ["a"], "bpftool not installed")])]), []);
});

test("renderTable: features and counts per kernel, and the tests that do not pass everywhere", () => {
  const md = renderTable([
    kernel("6.1", [rec("pass", ["k", "fires"]), rec("pass", ["k", "other"])]),
    kernel("host", [rec("skip", ["k", "fires"], KPROBE_SKIP), rec("pass", ["k", "other"])]),
  ]);
  assert.match(md, /^\| kernel \| release \| from \|$/m);
  assert.match(md, /^\| \*\*kprobe\*\*: kprobes \| yes \| no: no PMU \|$/m);
  assert.match(md, /^\| pass \| 2 \| 1 \|$/m);
  assert.match(md, /^\| skipped: feature missing \| 0 \| 1 \|$/m);
  assert.match(
    md,
    /^\| test\/kernel\/links\/kprobe\.test\.ts > k > fires \| pass \| skip \(requires kprobe\) \|$/m,
  );
  assert.doesNotMatch(md, /k > other/);
});

test("renderFeatureTable: per kernel, whether the feature is there and how many tests needing it passed", () => {
  const fires = { ...rec("pass", ["k", "fires"]), requires: ["kprobe"] };
  const md = renderFeatureTable([
    kernel("6.1", [fires, { ...fires, path: ["k", "again"] }, rec("pass", ["k", "other"])]),
    kernel("6.12", [rec("pass", ["k", "other"])]),
    kernel("host", [rec("skip", ["k", "fires"], KPROBE_SKIP), rec("pass", ["k", "other"])]),
  ]);
  assert.deepEqual(md.trim().split("\n"), [
    "| kernel feature | 6.1 (6.1.0) | 6.12 (6.12.0) | host (host.0) |",
    "|---|---|---|---|",
    "| `kprobe`: kprobes | yes: 2 tests pass | yes | no |",
    "| **every matrix test** | 3 pass, 0 fail, 0 skipped | 1 pass, 0 fail, 0 skipped | 1 pass, 0 fail, 1 skipped |",
  ]);
});

test("spliceReadme replaces the generated block only, and refuses a README without one", () => {
  const readme = `# x\n\n${README_BEGIN}\nold\n${README_END}\n\nrest\n`;
  assert.equal(spliceReadme(readme, "| new |\n"), `# x\n\n${README_BEGIN}\n| new |\n${README_END}\n\nrest\n`);
  assert.throws(() => spliceReadme("# x\n", "t"), /README\.md has no <!-- kernel-matrix:begin/);
});
