import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (from test/tools or dist/test/tools). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "bin", "tsbpf.js"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find bin/tsbpf.js above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** Why the CLI cannot run (dist not built), or undefined. */
export function cliMissing(): string | undefined {
  return existsSync(join(repoRoot(), "dist", "src", "cli", "main.js"))
    ? undefined
    : "dist/ not built (npm run build)";
}

/** A running `node bin/tsbpf.js ARGS` with its output split into lines. */
export class ToolProcess {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  /** `command` replaces `node bin/tsbpf.js` (e.g. to run it under `ip netns exec`). */
  constructor(args: readonly string[], command?: [string, readonly string[]]) {
    const [cmd, prefix] = command ?? [process.execPath, [join(repoRoot(), "bin", "tsbpf.js")]];
    this.child = spawn(cmd, [...prefix, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const split = (stream: NodeJS.ReadableStream, into: string[]): void => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        into.push(...parts);
        this.#notify();
      });
      stream.on("end", () => {
        if (rest) into.push(rest);
        this.#notify();
      });
    };
    split(this.child.stdout!, this.stdout);
    split(this.child.stderr!, this.stderr);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        this.#notify();
        resolve(code ?? (signal ? -1 : null));
      }),
    );
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /**
   * Waits until `predicate` holds for the output (or fails after `ms`, showing the output). The
   * default allows for QEMU guests without KVM (the kernel matrix), where a tool starts in 10-20 s.
   */
  async waitFor(what: string, predicate: () => boolean, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(
          `${what}: ${this.child.exitCode !== null ? `tool exited (${this.child.exitCode})` : "timed out"}\n` +
            `stdout:\n${this.stdout.slice(-40).join("\n")}\nstderr:\n${this.stderr.slice(-20).join("\n")}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a stdout line matching `re`. */
  waitForLine(re: RegExp, ms?: number): Promise<void> {
    return this.waitFor(`a line matching ${re}`, () => this.stdout.some((l) => re.test(l)), ms);
  }

  /** Sends `signal` (default SIGINT) and waits for the exit code (kills after 10 s). */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stdout lines parsed as JSON (lines that are not JSON are skipped). */
  json<T = Record<string, unknown>>(): T[] {
    return this.stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as T];
      } catch {
        return [];
      }
    });
  }
}

/** Runs `cmd args` to completion, resolving its exit code. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: "ignore", ...options });
    c.on("error", reject);
    c.on("exit", (code) => resolve(code));
  });
}

/** Ids of the BPF programs a process holds open (the `prog_id:` lines of its fds' fdinfo). */
export async function programIdsHeldBy(pid: number): Promise<number[]> {
  const { readdirSync, readFileSync } = await import("node:fs");
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
      if (m) ids.push(Number(m[1]));
    } catch {
      // the fd was closed meanwhile
    }
  }
  return [...new Set(ids)];
}

/** Ids of every BPF program loaded in the kernel. */
export async function loadedProgramIds(): Promise<number[]> {
  const { execFileSync } = await import("node:child_process");
  const out = execFileSync("bpftool", ["prog", "list", "--json"], { encoding: "utf8" });
  return (JSON.parse(out) as { id: number }[]).map((p) => p.id);
}
