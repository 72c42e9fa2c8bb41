import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** One line of a benchmark table. Benchmarks report numbers, never pass/fail. */
export interface BenchRow {
  readonly name: string;
  /** Work unit counted, e.g. "insn" or "run". */
  readonly unit: string;
  /** Median nanoseconds per unit. */
  readonly ns: number;
  /** Units per measured call (context for the reader). */
  readonly perCall: number;
  readonly note?: string;
}

/** A group of benchmarks, run by bench/run.ts. */
export interface BenchSuite {
  readonly title: string;
  run(): BenchRow[];
}

/**
 * Median ns per unit of `fn` (which returns the units it did), over `trials` trials of at least
 * `minMs` milliseconds each, after a warm-up.
 */
export function measure(fn: () => number, trials = 5, minMs = 300): number {
  const warmUntil = performance.now() + minMs;
  while (performance.now() < warmUntil) fn();
  const results: number[] = [];
  for (let t = 0; t < trials; t++) {
    let units = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(minMs) * 1_000_000n;
    let now = start;
    while (now < end) {
      units += fn();
      now = process.hrtime.bigint();
    }
    results.push(Number(now - start) / units);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)]!;
}

/** The repository root (where package.json is), from bench/ sources or dist/bench. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The shared read-only material: $TSBPF_SHARED, else <repo>/../shared. */
export function sharedDir(): string {
  return process.env.TSBPF_SHARED ?? resolve(repoRoot(), "../shared");
}
