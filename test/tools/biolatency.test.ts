import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { requestFlags } from "../../src/tools/biolatency.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { startTool, tempDir } from "./profiling-helpers.js";

function histogramTotal(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/^\s+\d+ -> \d+\s+: (\d+)\s+\|/gm)) total += Number(m[1]);
  return total;
}

/** Direct writes and reads of a file on the root disk, so the block layer sees requests. */
function makeIo(dir: string): void {
  const file = join(dir, "io.dat");
  const dd = (args: string[]) => spawnSync("dd", args, { stdio: "ignore" });
  dd(["if=/dev/zero", `of=${file}`, "bs=64k", "count=64", "oflag=direct"]);
  spawnSync("sync");
  dd([`if=${file}`, "of=/dev/null", "bs=64k", "iflag=direct"]);
}

test("request flags are named as BCC names them", () => {
  assert.equal(requestFlags(0), "Read");
  assert.equal(requestFlags(1 | (1 << 11)), "Sync-Write");
  assert.equal(requestFlags(0 | (1 << 19)), "ReadAhead-Read");
  assert.equal(requestFlags(1 | (1 << 11) | (1 << 17)), "ForcedUnitAccess-Sync-Write");
  assert.equal(requestFlags(0x42), "Unknown");
});

kernelTest(
  "biolatency sees the block I/O of dd (direct I/O + sync): non-zero histogram, per disk",
  async (t) => {
    const tmp = tempDir("bio");
    t.after(tmp.remove);
    const tool = startTool("biolatency", ["-D", "2", "1"]);
    await tool.waitFor("Tracing block device I/O");
    await new Promise((r) => setTimeout(r, 300)); // attached before the first line is printed
    makeIo(tmp.dir);
    const r = await tool.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\ndisk = \S+\n {5}usecs {15}: count {5}distribution\n/);
    assert.ok(histogramTotal(r.stdout) >= 64, `expected the 64 direct writes at least:\n${r.stdout}`);
  },
);

kernelTest("biolatency -F --json -m: histograms per I/O flags as JSON", async (t) => {
  const tmp = tempDir("bio");
  t.after(tmp.remove);
  const tool = startTool("biolatency", ["-F", "-m", "--json", "2", "1"]);
  await new Promise((r) => setTimeout(r, 1000)); // no banner with --json: give it time to attach
  makeIo(tmp.dir);
  const r = await tool.done;
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { flags: string; unit: string; total: number });
  assert.ok(
    objs.some((o) => /Write/.test(o.flags) && o.total > 0),
    r.stdout,
  );
  for (const o of objs) assert.equal(o.unit, "msecs");
});
