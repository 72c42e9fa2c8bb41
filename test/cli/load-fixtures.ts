// Shared by the load/attach/iter/kprobe CLI tests: objects compiled with uniquely named programs
// and maps (so leftovers can be told from other tests' objects), the CLI run in-process or as a
// child process that is interrupted, and what bpftool says is loaded.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

/** The repository root, from the sources (tsx) or from dist/ (compiled). */
export const root = ["../..", "../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;

/** Runs `tsbpf ARGS` in this process. */
export async function tsbpf(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (t) => (out += t.endsWith("\n") ? t : t + "\n"),
    err: (t) => (err += t.endsWith("\n") ? t : t + "\n"),
    readStdin: async () => "",
  });
  return { code, out, err };
}

const has = (cmd: string, arg = "--version"): boolean =>
  spawnSync(cmd, [arg], { stdio: "ignore" }).status === 0;

/** Why tests that compile BPF C or ask bpftool cannot run, or undefined. */
export const noTools: string | undefined = !has("clang-19")
  ? "clang-19 not installed"
  : !has("bpftool", "version")
    ? "bpftool not installed"
    : undefined;

/** Compiles BPF C (uapi headers and libbpf's bpf_helpers.h only) into a temporary object. */
export function compileBpf(name: string, source: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-cli-"));
  writeFileSync(join(dir, `${name}.bpf.c`), source);
  execFileSync(
    "clang-19",
    [
      "-O2",
      "-g",
      "-target",
      "bpf",
      "-I/usr/include/x86_64-linux-gnu",
      "-c",
      `${name}.bpf.c`,
      "-o",
      `${name}.bpf.o`,
    ],
    { cwd: dir, stdio: "pipe" },
  );
  return { path: join(dir, `${name}.bpf.o`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A tracepoint program NAME on syscalls/sys_enter_openat counting into array map NAME_c. */
export const tracepointSource = (name: string): string => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ${name}_c SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_openat")
int ${name}(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&${name}_c, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** The guide's kprobe object: program in SEC("prog"), an iproute2 bpf_elf_map NAME_m pinned in the global namespace. */
export const legacyKprobeSource = (name: string): string => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_elf_map {
	__u32 type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};
struct bpf_elf_map SEC("maps") ${name}_m = {
	.type = BPF_MAP_TYPE_HASH, .size_key = 4, .size_value = 8, .max_elem = 8, .pinning = 2,
};
SEC("prog")
int ${name}(void *ctx)
{
	__u32 k = 0;
	__u64 one = 1;
	bpf_map_update_elem(&${name}_m, &k, &one, BPF_ANY);
	return 0;
}
char _license[] SEC("license") = "GPL";
`;

/** Names of the programs/maps/links bpftool lists (JSON). */
export function bpftoolList(
  what: "prog" | "map" | "link",
): { id: number; name?: string; prog_id?: number }[] {
  return JSON.parse(execFileSync("bpftool", [what, "list", "-j"], { encoding: "utf8" })) as {
    id: number;
    name?: string;
    prog_id?: number;
  }[];
}

/** Ids of the loaded programs named `name`. */
export const programIds = (name: string): number[] =>
  bpftoolList("prog")
    .filter((p) => p.name === name)
    .map((p) => p.id);

/**
 * A `tsbpf` child process: its output so far, a wait for a line, and SIGINT. `await using` it:
 * a test that fails while the child runs still interrupts it (it removes its kprobe events and
 * links itself), and the test process is not kept alive by the child's pipes.
 */
export interface Child extends AsyncDisposable {
  readonly stdout: () => string;
  readonly stderr: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  interrupt(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `tsbpf ARGS` in a child node (tsx for the sources, plain node for dist/), under
 * `wrapper` when given (e.g. ["unshare", "-n"] for a fresh network namespace).
 */
export function spawnTsbpf(args: readonly string[], wrapper: readonly string[] = []): Child {
  const compiled = import.meta.url.endsWith(".js");
  const mainUrl = new URL(`../../src/cli/main.${compiled ? "js" : "ts"}`, import.meta.url).href;
  const script = `const { main } = await import(${JSON.stringify(mainUrl)}); process.exitCode = await main(process.argv.slice(1));`;
  const command = [
    ...wrapper,
    process.execPath,
    ...(compiled ? [] : ["--import", "tsx"]),
    "--input-type=module",
    "-e",
    script,
    "--",
    ...args,
  ];
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const interrupt = async (signal: NodeJS.Signals = "SIGINT"): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    stdout: () => out,
    stderr: () => err,
    interrupt,
    [Symbol.asyncDispose]: async () => void (await interrupt()),
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m[0];
        if (child.exitCode !== null || Date.now() > deadline) {
          await interrupt();
          assert.fail(`no ${pattern} from tsbpf ${args.join(" ")} (exit ${child.exitCode}):\n${out}\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/**
 * Polls `check` until it holds or `timeoutMs` passes, and returns whether it held. The kernel
 * frees programs, maps and links asynchronously (RCU, work items) after their last fd closes, so
 * "nothing of ours remains" is only true a moment after the process that held them exits.
 */
export async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
