/**
 * Runs test files, each in its own node process (two at a time), with the spec reporter for
 * people and reporter.ts for the matrix. Unlike `node --test`, each record is attributed to
 * its test file even when the test was declared through a helper (kernelTest), and a file that
 * dies without reporting a failure (a crash while loading, a timeout) still yields one.
 *
 *   node dist/test/vm-matrix/run-files.js --out DIR [--timeout SECONDS] FILE...
 *
 * Writes DIR/tests.jsonl (all records) and DIR/files.json (exit code and seconds per file);
 * exits 0 when every file passed.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestRecord } from "./reporter.js";

const CONCURRENCY = 2;

/** What one file's process did. */
export interface FileResult {
  readonly file: string;
  readonly exitCode: number;
  readonly seconds: number;
  readonly timedOut: boolean;
}

function runFile(
  file: string,
  out: string,
  timeoutSeconds: number,
): Promise<FileResult & { output: string }> {
  const reporter = fileURLToPath(new URL("./reporter.js", import.meta.url));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      "--enable-source-maps",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${out}`,
      file,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TSBPF_MATRIX_FILE: file } },
  );
  const chunks: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  child.stderr.on("data", (c: Buffer) => chunks.push(c));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutSeconds * 1000);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        file,
        exitCode: code ?? (signal ? 128 : 1),
        seconds: (performance.now() - started) / 1000,
        timedOut,
        output: Buffer.concat(chunks).toString("utf8"),
      });
    });
  });
}

/** The records a file wrote, plus one failure when its process failed without reporting any. */
export function fileRecords(result: FileResult, jsonl: string, output: string): TestRecord[] {
  const records = jsonl
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as TestRecord];
      } catch {
        return [];
      }
    });
  if (result.exitCode !== 0 && !records.some((r) => r.status === "fail")) {
    const last = output.trim().split("\n").filter(Boolean).slice(-3).join(" | ");
    const why = result.timedOut ? `killed after the per-file timeout` : `exit code ${result.exitCode}`;
    records.push({
      status: "fail",
      kind: "suite",
      file: result.file,
      path: ["(test file)"],
      reason: `${why} without a failing test: ${last}`.slice(0, 400),
      ms: Math.round(result.seconds * 1000),
    });
  }
  return records;
}

async function main(argv: readonly string[]): Promise<number> {
  let outDir: string | undefined;
  let timeoutSeconds = 300;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") outDir = argv[++i];
    else if (argv[i] === "--timeout") timeoutSeconds = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  if (!outDir || files.length === 0 || !(timeoutSeconds > 0)) {
    console.error("usage: run-files --out DIR [--timeout SECONDS] FILE...");
    return 2;
  }
  const parts = join(outDir, "tests.d");
  rmSync(parts, { recursive: true, force: true });
  mkdirSync(parts, { recursive: true });
  const results: FileResult[] = [];
  const records: TestRecord[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      const part = join(parts, `${index}.jsonl`);
      const r = await runFile(file, part, timeoutSeconds);
      const { output, ...result } = r;
      results.push(result);
      let jsonl = "";
      try {
        jsonl = readFileSync(part, "utf8");
      } catch {
        // the process died before the reporter opened its file
      }
      records.push(...fileRecords(result, jsonl, output));
      const status = result.timedOut
        ? "TIMEOUT"
        : result.exitCode === 0
          ? "ok"
          : `FAILED (exit ${result.exitCode})`;
      process.stdout.write(`\n── ${file}: ${status} in ${result.seconds.toFixed(1)} s\n${output}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  writeFileSync(join(outDir, "tests.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  results.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  writeFileSync(join(outDir, "files.json"), JSON.stringify(results, null, 2) + "\n");
  rmSync(parts, { recursive: true, force: true });
  return results.every((r) => r.exitCode === 0) ? 0 : 1;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
