import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { runTool, startTool } from "./profiling-helpers.js";

/** Total count of the BCC histograms in a tool's output. */
function histogramTotal(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/^\s+\d+ -> \d+\s+: (\d+)\s+\|/gm)) total += Number(m[1]);
  return total;
}

kernelTest("runqlat 1 1: a usecs histogram in BCC's format with a non-zero total", async () => {
  const r = await runTool("runqlat", ["1", "1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Tracing run queue latency\.\.\. Hit Ctrl-C to end\.\n\n {5}usecs {15}: count {5}distribution\n {9}0 -> 1 {10}: \d+ +\|/,
  );
  assert.ok(histogramTotal(r.stdout) > 0, r.stdout);
});

kernelTest("runqlat -P --json -m: one histogram per process, in msecs", async () => {
  const r = await runTool("runqlat", ["-P", "-m", "--json", "1", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { pid: number; comm: string; unit: string; total: number });
  assert.ok(objs.length > 1, r.stdout);
  for (const o of objs) {
    assert.equal(o.unit, "msecs");
    assert.equal(typeof o.comm, "string");
    assert.ok(o.pid > 0 && o.total > 0);
  }
  assert.equal(new Set(objs.map((o) => o.pid)).size, objs.length, "one histogram per pid");
});

kernelTest("runqlat --prometheus: the histogram is scraped over loopback and ends at Ctrl-C", async () => {
  const tool = startTool("runqlat", ["--prometheus", "127.0.0.1:0"]);
  try {
    await tool.waitFor(/metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
  } catch (e) {
    await tool.stop("SIGKILL");
    throw e;
  }
  await new Promise((r) => setTimeout(r, 500));
  const port = /127\.0\.0\.1:(\d+)\/metrics/.exec(tool.output().stderr)![1]!;
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: "127.0.0.1", port: Number(port), path: "/metrics" }, (res) => {
      let b = "";
      res.on("data", (d: Buffer) => (b += d.toString()));
      res.on("end", () => resolve(b));
    })
      .on("error", reject)
      .end();
  });
  const r = await tool.stop();
  assert.equal(r.code, 0, r.stderr);
  assert.match(body, /# TYPE tsbpf_runqlat_seconds histogram/);
  const count = /tsbpf_runqlat_seconds_count\{[^}]*\} (\d+)/.exec(body);
  assert.ok(count && Number(count[1]) > 0, body);
  assert.match(body, /tsbpf_runqlat_seconds_bucket\{le="\+Inf"[^}]*\} \d+/);
  assert.match(r.stdout, /usecs {15}: count/, "the final histogram printed at SIGINT");
});

test("runqlat rejects -P with -L", async () => {
  const r = await runTool("runqlat", ["-P", "-L"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exclusive/);
});
