import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { buildC, runTool, startProgram, startTool, tempDir } from "./profiling-helpers.js";

const SLEEPER = `#include <stdio.h>
#include <time.h>
void tsbpf_nap(void) { struct timespec t = {0, 10000000}; nanosleep(&t, NULL); }
void tsbpf_sleep_loop(void) { for (;;) tsbpf_nap(); }
int main(void) { printf("ready\\n"); fflush(stdout); tsbpf_sleep_loop(); return 0; }
`;

kernelTest("offcputime -f -p: a sleeping child's blocked time by stack, until Ctrl-C", async (t) => {
  const tmp = tempDir("offcpu");
  t.after(tmp.remove);
  const sleeper = await startProgram(buildC(tmp.dir, "sleeper", SLEEPER));
  t.after(() => sleeper.kill("SIGKILL"));
  const tool = startTool("offcputime", ["-f", "-p", String(sleeper.pid), "--svg", join(tmp.dir, "off.svg")]);
  await new Promise((r) => setTimeout(r, 2500));
  const r = await tool.stop("SIGINT");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  for (const l of lines) assert.match(l, /^sleeper;.* \d+$/, "only the process asked for");
  const mine = lines.filter((l) => /;main;tsbpf_sleep_loop;.*;schedule;__schedule \d+$/.test(l));
  assert.ok(mine.length > 0, r.stdout);
  assert.ok(!/bpf_prog_|__traceiter_/.test(r.stdout), "the tracing machinery's own frames are dropped");
  const usecs = mine.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  // It sleeps nearly all the time; the tool loads in well under a second of the 2.5.
  assert.ok(usecs > 500_000 && usecs < 3_000_000, `${usecs} us blocked`);
  const svg = readFileSync(join(tmp.dir, "off.svg"), "utf8");
  assert.match(svg, /<title>tsbpf_sleep_loop \([\d,]+ us, [\d.]+%\)<\/title>/);
  assert.match(svg, /Off-CPU Time Flame Graph/);
});

kernelTest("offcputime -K -m 1000 1: BCC's listing of kernel stacks blocked over 1 ms", async () => {
  const r = await runTool("offcputime", ["-K", "-m", "1000", "1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Tracing off-CPU time \(us\) of all threads by kernel stack for 1 secs\.\n/);
  const values = [...r.stdout.matchAll(/\n {4}- {16}\S.* \(\d+\)\n {8}(\d+)\n\n/g)].map((m) => Number(m[1]));
  assert.ok(values.length > 0, r.stdout);
  for (const v of values) assert.ok(v >= 1000, `${v} us is under -m 1000`);
});

test("offcputime rejects -u with -k", async () => {
  const r = await runTool("offcputime", ["-u", "-k"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /exclusive/);
});
