/**
 * Matrix mode: for each kernel, run the selected test files (MATRIX_TESTS) with
 * node's test runner (natively for "host", in a QEMU guest otherwise), collect the reporter's
 * records and the feature probes into dist/kernel-matrix/<kernel>/, then cross-check and
 * write docs/kernel-matrix.md and the README's feature × kernel table.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { release } from "node:os";
import { join, relative } from "node:path";
import { boot, guestDeath } from "./boot.js";
import { BOOT_MODULES, prepareKernel } from "./fetch.js";
import { ensureHostTools } from "./host.js";
import { initramfsFor } from "./initramfs.js";
import { KERNELS, type KernelEntry } from "./kernels.js";
import type { Options } from "./main.js";
import { log, resultsDir, sharedDir, shares } from "./project.js";
import {
  count,
  failures,
  parseRecords,
  runOk,
  skippedEverywhere,
  testId,
  type KernelRun,
} from "./results.js";
import { renderFeatureTable, renderTable, spliceReadme } from "./table.js";
import type { FeatureReport } from "./features.js";

/**
 * What the matrix runs (compiled paths under dist/, a folder or one file): the whole kernel
 * backend suite, the VM≡kernel differential suite, and the CLI and tool tests whose kprobe
 * paths only a kernel with kprobes can prove (`tsbpf kprobe`, hello on clone, tcpconnect).
 */
export const MATRIX_TESTS: readonly string[] = [
  "test/kernel",
  "test/differential",
  "test/cli/kprobe.test.js",
  "test/tools/hello.test.js",
  "test/tools/tcpconnect.test.js",
];

/** The compiled test files of MATRIX_TESTS, relative to the project root, selected by substring filters. */
export function selectTestFiles(root: string, filters: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
    else if (p.endsWith(".test.js")) files.push(relative(root, p));
  };
  for (const entry of MATRIX_TESTS) walk(join(root, "dist", entry));
  return filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A copy of dist/ (other tsc runs in the shared checkout may rewrite it during the matrix)
 * in dist/kernel-matrix/snapshot, beside links to the repository's other top-level entries,
 * so that paths relative to a compiled file resolve as they do in the repository.
 */
export function snapshot(root: string): string {
  const dir = join(root, "dist", "kernel-matrix", "snapshot");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(root)) {
    if (name !== "dist") symlinkSync(join(root, name), join(dir, name));
  }
  for (const name of readdirSync(join(root, "dist"))) {
    if (name !== "kernel-matrix")
      cpSync(join(root, "dist", name), join(dir, "dist", name), { recursive: true });
  }
  return dir;
}

/** The job both the host and the guests run from the snapshot. */
export function testJob(dir: string, files: readonly string[], sharedDir: string | undefined): string {
  return [
    "# written by test/vm-matrix/matrix.ts",
    `export TSBPF_KERNEL_TESTS=require NO_COLOR=1${sharedDir ? ` TSBPF_SHARED=${quote(sharedDir)}` : ""}`,
    `node dist/test/vm-matrix/features.js ${quote(join(dir, "features.json"))}`,
    [`exec node dist/test/vm-matrix/run-files.js --out ${quote(dir)}`, ...files.map(quote)].join(" \\\n  "),
    "",
  ].join("\n");
}

/** Runs the job natively; resolves with its exit code. */
function runOnHost(cwd: string, dir: string, verbose: boolean): Promise<number> {
  const out = createWriteStream(join(dir, "output.log"));
  const child = spawn("sh", [join(dir, "job.sh")], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk: Buffer) => {
      out.write(chunk);
      if (verbose) process.stdout.write(chunk);
    });
  }
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      out.end();
      resolve(code ?? 1);
    });
  });
}

const secs = (s: number | undefined): string => (s === undefined ? "-" : `${s.toFixed(1)} s`);

async function runKernel(
  entry: KernelEntry,
  o: Options,
  root: string,
  files: readonly string[],
  work: string,
): Promise<KernelRun> {
  const dir = resultsDir(root, entry.name);
  mkdirSync(dir, { recursive: true });
  for (const f of [
    "tests.jsonl",
    "files.json",
    "features.json",
    "output.log",
    "console.log",
    "exit-code",
    "job.sh",
  ]) {
    rmSync(join(dir, f), { force: true });
  }
  writeFileSync(join(dir, "job.sh"), testJob(dir, files, sharedDir(root)));
  const collect = (r: {
    release: string;
    source: string;
    exitCode: number | undefined;
    boot?: number;
    test?: number;
    problem?: string;
  }): KernelRun => ({
    name: entry.name,
    release: r.release,
    source: r.source,
    exitCode: r.exitCode,
    records: existsSync(join(dir, "tests.jsonl"))
      ? parseRecords(readFileSync(join(dir, "tests.jsonl"), "utf8"))
      : [],
    features: existsSync(join(dir, "features.json"))
      ? (JSON.parse(readFileSync(join(dir, "features.json"), "utf8")) as FeatureReport)
      : undefined,
    bootSeconds: r.boot,
    testSeconds: r.test,
    problem: r.problem,
  });

  if (!entry.pkg) {
    const started = performance.now();
    const exitCode = await runOnHost(work, dir, o.verbose);
    return collect({
      release: release(),
      source: "the machine running the matrix (native, no VM)",
      exitCode,
      test: (performance.now() - started) / 1000,
    });
  }
  const kernel = prepareKernel(entry, log);
  const initrd = initramfsFor(kernel, BOOT_MODULES);
  const output = createWriteStream(join(dir, "output.log"));
  const r = await boot({
    kernel,
    initrd,
    shares: shares(root),
    cwd: work,
    jobDir: dir,
    timeoutSeconds: o.timeoutSeconds,
    consoleLog: join(dir, "console.log"),
    onJobLine: (line) => {
      output.write(line + "\n");
      if (o.verbose) process.stdout.write(line + "\n");
    },
    onRetry: (tail) =>
      log(`${entry.name}: the guest died before the tests began, booting again (${guestDeath(tail)})`),
  });
  output.end();
  const problem =
    r.exitCode !== undefined
      ? undefined
      : `the guest wrote no exit code${r.timedOut ? ` (timed out after ${o.timeoutSeconds} s)` : ""}; console ends with:\n    ${r.tail.slice(-10).join("\n    ")}`;
  return collect({
    release: kernel.release,
    source: `Debian ${kernel.pkg} ${kernel.version}`,
    exitCode: r.exitCode,
    boot: r.bootSeconds,
    test: r.jobSeconds,
    problem,
  });
}

/** Runs the matrix; returns 0 when every kernel passed and no required-feature test was skipped everywhere. */
export async function runMatrix(o: Options, root: string): Promise<number> {
  const started = performance.now();
  const files = selectTestFiles(root, o.filters);
  if (files.length === 0) {
    log(`no test files selected from ${MATRIX_TESTS.join(", ")} under dist/ (run tsc first?)`);
    return 2;
  }
  if (o.kernels.some((k) => k.pkg)) ensureHostTools(log);
  const work = snapshot(root);
  log(`${files.length} test files on ${o.kernels.map((k) => k.name).join(", ")}`);

  const runs: KernelRun[] = [];
  let ok = true;
  for (const entry of o.kernels) {
    const run = await runKernel(entry, o, root, files, work);
    runs.push(run);
    const c = count(run.records);
    const good = runOk(run);
    ok &&= good;
    log(
      `${run.name} (${run.release}): ${good ? "ok" : "FAILED"}: boot ${secs(run.bootSeconds)}, tests ${secs(run.testSeconds)}: ` +
        `${c.pass} pass, ${c.fail} fail, ${c.skipFeature} skipped (feature missing), ${c.skipOther} skipped (other)` +
        (run.exitCode !== undefined && run.exitCode !== 0 ? `, node --test exit ${run.exitCode}` : ""),
    );
    if (run.problem) log(`  ${run.problem}`);
    for (const r of failures(run.records)) {
      log(`  fail: ${testId(r)}: ${r.reason ?? ""}`);
    }
    if (!good)
      log(`  logs: ${relative(root, resultsDir(root, run.name))}/{output.log,console.log,tests.jsonl}`);
  }

  const complete = o.kernels.length === KERNELS.length && o.filters.length === 0;
  const never = skippedEverywhere(runs);
  if (complete) {
    for (const n of never) {
      ok = false;
      log(`never runs (skipped on every kernel): ${n.id}\n    ${n.reasons.join("\n    ")}`);
    }
  } else if (never.length > 0) {
    log(
      `${never.length} tests skipped for a missing feature on all the kernels run (not checked: partial matrix)`,
    );
  }
  writeFileSync(
    join(root, "dist", "kernel-matrix", "summary.json"),
    JSON.stringify(summary(runs, never), null, 2) + "\n",
  );
  if (complete && o.docs && runs.every((r) => r.problem === undefined)) {
    mkdirSync(join(root, "docs"), { recursive: true });
    writeFileSync(join(root, "docs", "kernel-matrix.md"), renderTable(runs));
    const readme = join(root, "README.md");
    writeFileSync(readme, spliceReadme(readFileSync(readme, "utf8"), renderFeatureTable(runs)));
    log(`wrote docs/kernel-matrix.md and the README's kernel table`);
  }
  log("wall time per kernel:");
  for (const run of runs) {
    const c = count(run.records);
    log(
      `  ${run.name.padEnd(6)} boot ${secs(run.bootSeconds).padStart(8)}  tests ${secs(run.testSeconds).padStart(8)}  ` +
        `${c.pass} pass, ${c.fail} fail, ${c.skipFeature + c.skipOther} skipped${runOk(run) ? "" : "  FAILED"}`,
    );
  }
  log(`matrix ${ok ? "passed" : "FAILED"} in ${secs((performance.now() - started) / 1000)}`);
  return ok ? 0 : 1;
}

function summary(runs: readonly KernelRun[], never: ReturnType<typeof skippedEverywhere>) {
  return {
    kernels: runs.map((r) => ({
      name: r.name,
      release: r.release,
      source: r.source,
      ok: runOk(r),
      exitCode: r.exitCode,
      bootSeconds: r.bootSeconds,
      testSeconds: r.testSeconds,
      counts: count(r.records),
      problem: r.problem,
    })),
    skippedEverywhere: never,
  };
}
