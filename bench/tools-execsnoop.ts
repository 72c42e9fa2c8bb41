/**
 * What `tsbpf execsnoop` keeps up with: exec() storms of increasing parallelism (1, 2, 4 C
 * processes each vfork+exec'ing /bin/true with a marker argument as fast as they can) while the
 * tool runs as users run it (`node bin/tsbpf.js execsnoop --json -l MARKER`, output to a file).
 * Each row: the exec rate reached, events printed / execs made, events the BPF side dropped on a
 * full ring buffer, and the cost per event: the tool process's CPU time (user+sys from
 * /proc/PID/stat) plus its BPF programs' run time (bpf_stats) divided by the events.
 * Needs root, cc and a built dist/; without them the suite says why.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KernelProgram } from "../src/kernel/index.js";
import { repoRoot, type BenchRow, type BenchSuite } from "./harness.js";

const GENERATOR = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  long n = strtol(argv[1], 0, 10);
  char *args[] = { "/bin/true", argv[2], 0 };
  for (long i = 0; i < n; i++) {
    pid_t p = vfork();
    if (p == 0) { execv("/bin/true", args); _exit(127); }
    waitpid(p, 0, 0);
  }
  return 0;
}
`;

const EXECS_PER_GENERATOR = 3000;
const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const CLK_TCK = 100;

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** user+sys CPU of a process, ns. */
function cpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e9) / CLK_TCK;
}

/** Total run_time_ns of the execsnoop programs loaded now (bpf_stats must be on). */
function bpfRunNs(): number {
  let total = 0;
  for (const id of KernelProgram.ids()) {
    try {
      const p = KernelProgram.fromId(id);
      try {
        const info = p.info();
        if (info.name.startsWith("tracepoint__sys")) total += Number(info.runTimeNs);
      } finally {
        p.close();
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function storm(exe: string, generators: number, root: string, dir: string): BenchRow {
  const marker = `tsbpf-bench-${process.pid}-${generators}`;
  const outPath = join(dir, `out-${generators}.jsonl`);
  const errPath = join(dir, `err-${generators}.txt`);
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  const tool = spawn(process.execPath, [join(root, "bin", "tsbpf.js"), "execsnoop", "--json", "-l", marker], {
    stdio: ["ignore", out, err],
  });
  closeSync(out);
  closeSync(err);
  const pid = tool.pid!;
  for (let i = 0; i < 300 && !readFileSync(errPath, "utf8").includes("Tracing"); i++) sleepSync(50);
  const cpu0 = cpuNs(pid);
  const bpf0 = bpfRunNs();
  const start = process.hrtime.bigint();
  const gens = Array.from({ length: generators }, () =>
    spawn(exe, [String(EXECS_PER_GENERATOR), marker], { stdio: "ignore" }),
  );
  // the generators are children of this (synchronous) process: reap them by polling
  while (
    gens.some(
      (g) => existsSync(`/proc/${g.pid}`) && !readFileSync(`/proc/${g.pid}/stat`, "utf8").includes(") Z "),
    )
  )
    sleepSync(20);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const total = generators * EXECS_PER_GENERATOR;
  // let the tool drain its ring buffer, then stop it
  let seen = 0;
  for (let i = 0, last = -1; i < 100; i++) {
    seen = readFileSync(outPath, "utf8")
      .split("\n")
      .filter((l) => l.includes(marker) && l.includes(`"/bin/true"`)).length;
    if (seen >= total || seen === last) break;
    last = seen;
    sleepSync(200);
  }
  const cpu = cpuNs(pid) - cpu0;
  const bpf = bpfRunNs() - bpf0;
  process.kill(pid, "SIGINT");
  for (
    let i = 0;
    i < 200 && existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
    i++
  )
    sleepSync(50);
  const lost = Number(/lost (\d+) events/.exec(readFileSync(errPath, "utf8"))?.[1] ?? 0);
  return {
    name: `execsnoop, ${generators} exec loop(s): ${Math.round(total / seconds)} execs/s`,
    unit: "event",
    ns: seen ? (cpu + bpf) / seen : 0,
    perCall: seen,
    note: `seen ${seen}/${total}, lost ${lost}; tool CPU ${(cpu / 1e6).toFixed(0)} ms + BPF ${(bpf / 1e6).toFixed(1)} ms`,
  };
}

function run(): BenchRow[] {
  if (process.getuid?.() !== 0)
    return [{ name: "skipped: needs root for bpf(2)", unit: "-", ns: 0, perCall: 0 }];
  const root = repoRoot();
  if (!existsSync(join(root, "dist", "src", "cli", "main.js")))
    return [{ name: "skipped: dist/ not built", unit: "-", ns: 0, perCall: 0 }];
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-execsnoop-"));
  let statsBefore: string | undefined;
  try {
    writeFileSync(join(dir, "gen.c"), GENERATOR);
    const exe = join(dir, "gen");
    const cc = spawnSync("cc", ["-O2", "-o", exe, join(dir, "gen.c")], { encoding: "utf8" });
    if (cc.status !== 0)
      return [
        {
          name: `skipped: cc failed (${cc.error?.message ?? cc.stderr.trim()})`,
          unit: "-",
          ns: 0,
          perCall: 0,
        },
      ];
    try {
      statsBefore = readFileSync(STATS, "utf8").trim();
      writeFileSync(STATS, "1");
    } catch {
      statsBefore = undefined;
    }
    return [1, 2, 4].map((g) => storm(exe, g, root, dir));
  } finally {
    if (statsBefore !== undefined) writeFileSync(STATS, statsBefore);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const toolsExecsnoopSuite: BenchSuite = {
  title: "tools: execsnoop under exec() storms (rate, events seen, lost, CPU per event)",
  run,
};
