/**
 * What `tsbpf profile` costs the profiled system: a fixed CPU-bound workload (a C loop, built
 * with cc) is timed alone and while profile's BPF side samples every CPU at 99 Hz (perf_event
 * program + stack-trace map, as the tool attaches it), alternating runs so both sides see the
 * same machine noise; the medians and the slowdown are reported, with the samples taken. The
 * symbolization at the end of a profile run happens after the workload and is timed on its own
 * row. Needs root (bpf(2)) and cc; without them the suite says why.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachPerfEvent } from "../src/kernel/links/index.js";
import { getProgramInfo } from "../src/kernel/sys/index.js";
import { loadToolObject } from "../src/tools/common/bpf.js";
import { StackReader, symbolizeStacks, type StackSample } from "../src/tools/common/stacks.js";
import { Symbolizer } from "../src/tools/common/symbolize.js";
import type { BenchRow, BenchSuite } from "./harness.js";

const WORKLOAD = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void step(unsigned long i) { sink += i * 2654435761u; }
int main(int argc, char **argv) {
  unsigned long n = strtoul(argv[1], 0, 10);
  struct timespec t;
  for (unsigned long i = 0; i < n; i++) step(i);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* its own CPU time: less noisy than wall time on a shared box */
  printf("%ld\\n", t.tv_sec * 1000000000L + t.tv_nsec);
  return 0;
}
`;

const ITERATIONS = "300000000";
const TRIALS = 5;
const HZ = 99;

const STATS = "/proc/sys/kernel/bpf_stats_enabled";

/** Runs `fn` with kernel.bpf_stats_enabled on (programs' run time and count), restoring it after. */
function withBpfStats<T>(fn: () => T): T {
  let before: string | undefined;
  try {
    before = readFileSync(STATS, "utf8").trim();
    writeFileSync(STATS, "1");
  } catch {
    before = undefined;
  }
  try {
    return fn();
  } finally {
    if (before !== undefined) writeFileSync(STATS, before);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Wall time and the workload's own CPU time, ns. */
function timeRun(exe: string): { wall: number; cpu: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(exe, [ITERATIONS], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`workload failed: ${r.error?.message ?? r.status}`);
  return { wall: Number(process.hrtime.bigint() - start), cpu: Number(r.stdout.trim()) };
}

function run(): BenchRow[] {
  if (process.getuid?.() !== 0)
    return [{ name: "skipped: needs root for bpf(2)", unit: "-", ns: 0, perCall: 0 }];
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-profile-"));
  try {
    writeFileSync(join(dir, "work.c"), WORKLOAD);
    const exe = join(dir, "work");
    const cc = spawnSync("cc", ["-O1", "-fno-omit-frame-pointer", "-o", exe, join(dir, "work.c")], {
      encoding: "utf8",
    });
    if (cc.status !== 0)
      return [
        { name: `skipped: cc failed (${cc.stderr || cc.error?.message})`, unit: "-", ns: 0, perCall: 0 },
      ];

    const coll = loadToolObject("profile", { constants: { targ_pid: 0 } });
    try {
      const alone: { wall: number; cpu: number }[] = [];
      const profiled: { wall: number; cpu: number }[] = [];
      let samples = 0;
      timeRun(exe); // warm the page cache
      const prog = coll.program("do_perf_event");
      withBpfStats(() => {
        for (let t = 0; t < TRIALS; t++) {
          alone.push(timeRun(exe));
          const link = attachPerfEvent(prog, { sampleFreq: HZ });
          try {
            profiled.push(timeRun(exe));
          } finally {
            link.close();
          }
        }
      });
      const info = getProgramInfo(prog.fd);
      const perSample = info.runCount > 0n ? Number(info.runTimeNs) / Number(info.runCount) : 0;
      const counts = [...coll.map("counts").entries()].map(([k, v]): StackSample => {
        const kv = new DataView(k.buffer, k.byteOffset);
        const name = k.subarray(12, 28);
        return {
          pid: kv.getUint32(0, true),
          userStackId: kv.getInt32(4, true),
          kernelStackId: kv.getInt32(8, true),
          comm: Buffer.from(name.subarray(0, Math.max(0, name.indexOf(0)))).toString(),
          value: Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true)),
        };
      });
      for (const c of counts) samples += c.value;
      const symStart = process.hrtime.bigint();
      symbolizeStacks(counts, new StackReader(coll.map("stackmap")), new Symbolizer());
      const symNs = Number(process.hrtime.bigint() - symStart);
      const a = median(alone.map((x) => x.wall));
      const p = median(profiled.map((x) => x.wall));
      const ac = median(alone.map((x) => x.cpu));
      const pc = median(profiled.map((x) => x.cpu));
      const pct = (x: number, base: number): string => `${(((x - base) / base) * 100).toFixed(2)}%`;
      return [
        {
          name: "workload alone (3e8 calls): wall",
          unit: "run",
          ns: a,
          perCall: 1,
          note: `median of ${TRIALS}`,
        },
        {
          name: `workload + profile ${HZ} Hz, every CPU: wall`,
          unit: "run",
          ns: p,
          perCall: 1,
          note: `${pct(p, a)} (${samples} samples in ${TRIALS} runs, all processes; wall time moves with the other load)`,
        },
        {
          name: "workload alone: its CPU time",
          unit: "run",
          ns: ac,
          perCall: 1,
          note: `median of ${TRIALS}`,
        },
        {
          name: `workload + profile ${HZ} Hz: its CPU time`,
          unit: "run",
          ns: pc,
          perCall: 1,
          note: pct(pc, ac),
        },
        {
          name: "BPF program run (one sample: 2 stack walks)",
          unit: "sample",
          ns: perSample,
          perCall: Number(info.runCount),
          note: `kernel.bpf_stats_enabled run_time_ns / run_cnt; at ${HZ} Hz: ${((perSample * HZ) / 1e7).toFixed(3)}% of each CPU`,
        },
        {
          name: "symbolize every sampled stack",
          unit: "stack",
          ns: counts.length ? symNs / counts.length : 0,
          perCall: counts.length,
          note: "kallsyms + ELF symbols of each mapped file, cold caches",
        },
      ];
    } finally {
      coll.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const toolsProfileSuite: BenchSuite = { title: "profile tool overhead (kernel)", run };
