/**
 * What one kernel's run produced (the reporter's JSON lines, the feature probes) and the
 * checks across kernels: a test skipped for a `requires` reason on every kernel never ran.
 */
import { REQUIRES_PREFIX } from "../helpers/requires.js";
import type { FeatureReport } from "./features.js";
import type { TestRecord } from "./reporter.js";

/** Counts of one kernel's test records (suites are not counted unless they are skipped). */
export interface Counts {
  pass: number;
  fail: number;
  /** Skipped because the kernel lacks a feature (requires.ts). */
  skipFeature: number;
  /** Skipped for another reason. */
  skipOther: number;
  todo: number;
}

/** Everything the matrix knows about one kernel after its run. */
export interface KernelRun {
  readonly name: string;
  readonly release: string;
  /** Where the kernel came from ("Debian linux-image-... 6.1.192-2", "host"). */
  readonly source: string;
  /** Exit code of the test job (node --test); undefined when the guest wrote none. */
  readonly exitCode: number | undefined;
  readonly records: readonly TestRecord[];
  readonly features: FeatureReport | undefined;
  readonly bootSeconds: number | undefined;
  readonly testSeconds: number | undefined;
  /** A harness-level problem (no result file, timeout). */
  readonly problem?: string;
}

/** Parses the reporter's JSON lines (a torn last line from a crashed guest is ignored). */
export function parseRecords(text: string): TestRecord[] {
  const out: TestRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TestRecord);
    } catch {
      // a line cut short by a guest that died while writing
    }
  }
  return out;
}

/** Whether a skip was given by the requires.ts gate (a feature the kernel lacks). */
export const isFeatureSkip = (r: TestRecord): boolean =>
  r.status === "skip" && (r.reason ?? "").startsWith(REQUIRES_PREFIX);

/** The stable identity of a test across kernels: its source file and names. */
export const testId = (r: TestRecord): string =>
  `${r.file.replace(/^dist\//, "").replace(/\.js$/, ".ts")} > ${r.path.join(" > ")}`;

/** Tests and skipped suites: the records the counts and the cross-check look at. */
export const countable = (records: readonly TestRecord[]): TestRecord[] =>
  records.filter((r) => r.kind === "test" || r.status === "skip" || r.status === "todo");

/**
 * The failures: failing tests, and suites that fail without a failing test (a hook, a file
 * that crashed while loading).
 */
export function failures(records: readonly TestRecord[]): TestRecord[] {
  const tests = records.filter((r) => r.kind === "test" && r.status === "fail");
  const suites = records.filter(
    (s) =>
      s.kind === "suite" &&
      s.status === "fail" &&
      !tests.some((t) => testId(t).startsWith(`${testId(s)} > `)),
  );
  return [...tests, ...suites];
}

export function count(records: readonly TestRecord[]): Counts {
  const c: Counts = { pass: 0, fail: failures(records).length, skipFeature: 0, skipOther: 0, todo: 0 };
  for (const r of countable(records)) {
    if (r.status === "skip") {
      if (isFeatureSkip(r)) c.skipFeature++;
      else c.skipOther++;
    } else if (r.status !== "fail") c[r.status]++;
  }
  return c;
}

/** Whether a kernel's run is good: results written, job exit 0, no failure. */
export function runOk(run: KernelRun): boolean {
  return run.problem === undefined && run.exitCode === 0 && count(run.records).fail === 0;
}

/**
 * Tests skipped for a missing feature on every kernel of `runs` (and run nowhere): each is a
 * test the matrix never exercises. Returned with the reason given on each kernel.
 */
export function skippedEverywhere(runs: readonly KernelRun[]): { id: string; reasons: string[] }[] {
  const byId = new Map<string, { ran: boolean; reasons: string[] }>();
  for (const run of runs) {
    for (const r of run.records) {
      const e = byId.get(testId(r)) ?? { ran: false, reasons: [] };
      byId.set(testId(r), e);
      if (isFeatureSkip(r)) e.reasons.push(`${run.name}: ${r.reason}`);
      else e.ran = true;
    }
  }
  return [...byId].filter(([, e]) => !e.ran).map(([id, e]) => ({ id, reasons: e.reasons }));
}
