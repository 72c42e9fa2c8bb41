/**
 * A node:test reporter writing one JSON line per finished test or suite (TestRecord), so the
 * matrix can compare kernels test by test (run-files.ts runs each file with it):
 *   node --test-reporter=./dist/test/vm-matrix/reporter.js --test-reporter-destination=OUT FILE
 * Node names the file where test() was called, which for kernelTest is the gate's file: the
 * test file comes from TSBPF_MATRIX_FILE when set.
 */
import { relative } from "node:path";
import { REQUIRES_PREFIX } from "../helpers/requires.js";

/** One finished test or suite. */
export interface TestRecord {
  readonly status: "pass" | "fail" | "skip" | "todo";
  readonly kind: "test" | "suite";
  /** Test file relative to the working directory. */
  readonly file: string;
  /** Names from the outermost suite down to this test. */
  readonly path: readonly string[];
  /** Skip or todo reason, failure message. */
  readonly reason?: string;
  readonly ms: number;
  /** Kernel features the test needs (kernelTest's `requires`), when it ran. */
  requires?: string[];
}

/** The parts of node:test's events this reporter reads. */
interface TestEventData {
  name: string;
  nesting: number;
  message?: string;
  file?: string;
  skip?: string | boolean;
  todo?: string | boolean;
  details?: { duration_ms?: number; type?: string; error?: Error & { cause?: unknown } };
}

const reasonOf = (flag: string | boolean | undefined): string | undefined =>
  typeof flag === "string" ? flag : undefined;

function failureMessage(error: (Error & { cause?: unknown }) | undefined): string {
  const cause = error?.cause instanceof Error ? error.cause : error;
  return (cause?.message ?? String(cause)).split("\n").slice(0, 3).join(" ").slice(0, 400);
}

export default async function* reporter(
  source: AsyncIterable<{ type: string; data: unknown }>,
): AsyncGenerator<string> {
  const stacks = new Map<string, string[]>();
  // Node reports a test's diagnostics after its result: a record waits for them.
  let pending: TestRecord | undefined;
  const flush = function* (): Generator<string> {
    if (pending) yield JSON.stringify(pending) + "\n";
    pending = undefined;
  };
  for await (const event of source) {
    const d = event.data as TestEventData;
    if (event.type === "test:diagnostic") {
      const m = d.message ?? "";
      if (pending && d.nesting === pending.path.length - 1 && m.startsWith(REQUIRES_PREFIX))
        pending.requires = m.slice(REQUIRES_PREFIX.length).split(", ");
      continue;
    }
    if (event.type !== "test:start" && event.type !== "test:pass" && event.type !== "test:fail") continue;
    yield* flush();
    const file = process.env.TSBPF_MATRIX_FILE ?? (d.file ? relative(process.cwd(), d.file) : "?");
    const stack = stacks.get(file) ?? [];
    stacks.set(file, stack);
    if (event.type === "test:start") {
      stack.length = d.nesting;
      stack[d.nesting] = d.name;
      continue;
    }
    const status = event.type === "test:fail" ? "fail" : d.skip ? "skip" : d.todo ? "todo" : "pass";
    pending = {
      status,
      kind: d.details?.type === "suite" ? "suite" : "test",
      file,
      path: [...stack.slice(0, d.nesting), d.name],
      reason: status === "fail" ? failureMessage(d.details?.error) : (reasonOf(d.skip) ?? reasonOf(d.todo)),
      ms: Math.round(d.details?.duration_ms ?? 0),
    };
  }
  yield* flush();
}
