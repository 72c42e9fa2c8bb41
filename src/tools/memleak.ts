/**
 * memleak: outstanding allocations of a user process grouped by stack, every interval (BCC's
 * memleak in user mode): uprobes and uretprobes on malloc, calloc, realloc and free of the libc
 * the process maps (/proc/PID/maps); allocations older than -o milliseconds that were not freed
 * are printed as the top N stacks by outstanding bytes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { attachUprobe, attachUretprobe } from "../kernel/links/index.js";
import { findLibraryInMaps } from "../kernel/uprobe/index.js";
import type { KernelMap } from "../kernel/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, everyInterval, sleep } from "./common/cleanup.js";
import { clockTime } from "./common/format.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { toJson } from "./common/output.js";
import { StackReader } from "./common/stacks.js";
import { Symbolizer, formatSymbol } from "./common/symbolize.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const spec = defineTool({
  name: "memleak",
  summary: "Trace outstanding memory allocations of a process by stack (leak detector)",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "the PID to trace", min: 1 },
    command: { kind: "string", short: "c", arg: "COMMAND", help: "execute and trace the specified command" },
    showAllocs: {
      kind: "flag",
      short: "a",
      help: "show allocation addresses and sizes as well as call stacks",
    },
    older: {
      kind: "int",
      short: "o",
      arg: "MS",
      help: "prune allocations younger than this age in milliseconds (default 500)",
    },
    top: {
      kind: "int",
      short: "T",
      arg: "N",
      help: "display only this many top allocating stacks (default 10)",
      min: 1,
    },
    minSize: {
      kind: "int",
      short: "z",
      arg: "BYTES",
      help: "capture only allocations larger than or equal to this size",
    },
    maxSize: {
      kind: "int",
      short: "Z",
      arg: "BYTES",
      help: "capture only allocations smaller than or equal to this size",
    },
    sampleRate: {
      kind: "int",
      short: "s",
      arg: "N",
      help: "sample every N-th allocation to decrease the overhead",
      min: 1,
    },
    obj: {
      kind: "string",
      short: "O",
      arg: "OBJ",
      help: "attach to allocator functions in this object (default: the libc of the process)",
    },
  },
  positionals: [
    { name: "interval", help: "interval in seconds to print outstanding allocations (default 5)" },
    { name: "count", help: "number of times to print the report before exiting" },
  ],
  examples: [
    ["memleak -p 1234", "trace outstanding allocations of process 1234 every 5 seconds"],
    ["memleak -p 1234 -a 10", "every 10 seconds, with each allocation's address and size"],
    ["memleak -c './leaky --flag'", "run and trace a command"],
    ["memleak -p 1234 -o 60000 60", "allocations older than a minute, every minute"],
  ],
});

/** struct alloc_info of memleak.bpf.c, with its address. */
interface Alloc {
  readonly address: bigint;
  readonly size: number;
  readonly timestampNs: bigint;
  readonly stackId: number;
}

function readAllocs(map: KernelMap): Alloc[] {
  const out: Alloc[] = [];
  let entries: Iterable<[Uint8Array, Uint8Array]>;
  try {
    entries = [...map.batchEntries(4096)];
  } catch {
    entries = map.entries(); // kernels without batch ops on hash maps
  }
  for (const [k, v] of entries) {
    const value = new DataView(v.buffer, v.byteOffset, v.byteLength);
    out.push({
      address: new DataView(k.buffer, k.byteOffset).getBigUint64(0, true),
      size: Number(value.getBigUint64(0, true)),
      timestampNs: value.getBigUint64(8, true),
      stackId: Number(value.getBigInt64(16, true)),
    });
  }
  return out;
}

/** Starts `command` stopped (so the probes are in place before it runs); resumed with SIGCONT. */
function startStopped(command: string): ChildProcess {
  return spawn("/bin/sh", ["-c", `kill -STOP $$; exec ${command}`], { stdio: "inherit" });
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  if ((o.pid === undefined) === (o.command === undefined))
    throw new ToolUsageError("give the process: -p PID or -c COMMAND (one of them)");
  if (o.minSize !== undefined && o.maxSize !== undefined && o.minSize > o.maxSize)
    throw new ToolUsageError("-z must not exceed -Z");
  const interval = o.positionals.interval ?? 5;
  const olderNs = BigInt(o.older ?? 500) * 1_000_000n;
  const top = o.top ?? 10;

  using cleanup = new Cleanup();
  let child: ChildProcess | undefined;
  let pid = o.pid!;
  if (o.command !== undefined) {
    child = startStopped(o.command);
    cleanup.defer(() => {
      if (child!.exitCode === null) child!.kill("SIGTERM");
    });
    pid = child.pid!;
    await sleep(50); // let sh stop itself
  }
  const libc = o.obj ?? findLibraryInMaps("c", pid);
  if (!libc) {
    io.err(`memleak: process ${pid} maps no libc (statically linked?): give the allocator object with -O`);
    return 2;
  }

  const coll = cleanup.use(
    loadToolObject("memleak", {
      constants: {
        min_size: o.minSize ?? 0,
        max_size: o.maxSize !== undefined ? BigInt(o.maxSize) : 0xffffffffffffffffn,
        sample_rate: o.sampleRate ?? 1,
      },
    }),
  );
  for (const fn of ["malloc", "calloc", "realloc"]) {
    cleanup.use(attachUprobe(coll.program(`${fn}_enter`), { target: libc, symbol: fn, pid }));
    cleanup.use(attachUretprobe(coll.program(`${fn}_exit`), { target: libc, symbol: fn, pid }));
  }
  cleanup.use(attachUprobe(coll.program("free_enter"), { target: libc, symbol: "free", pid }));
  if (child) child.kill("SIGCONT");
  if (!o.json) io.out(`Attaching to pid ${pid}, Ctrl+C to quit.`);

  const allocs = coll.map("allocs");
  const stacks = new StackReader(coll.map("stack_traces"));
  const symbolizer = new Symbolizer();
  const report = (): void => {
    const now = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
    const old = readAllocs(allocs).filter((a) => now - a.timestampNs >= olderNs);
    symbolizer.forget(pid); // libraries may have been loaded since the last report
    const byStack = new Map<number, { size: number; count: number; allocs: Alloc[] }>();
    for (const a of old) {
      const s = byStack.get(a.stackId) ?? { size: 0, count: 0, allocs: [] };
      s.size += a.size;
      s.count++;
      s.allocs.push(a);
      byStack.set(a.stackId, s);
    }
    const ranked = [...byStack].sort((a, b) => a[1].size - b[1].size).slice(-top);
    const frames = (stackId: number): string[] =>
      stackId < 0
        ? ["[Missed User Stack]"]
        : stacks.get(stackId).map((ip) => {
            const sym = formatSymbol(symbolizer.user(pid, ip), { offset: true, module: true });
            return `0x${ip.toString(16).padStart(16, "0")}\t${sym}`;
          });
    const time = clockTime();
    if (o.json) {
      for (const [stackId, s] of ranked.reverse())
        io.out(
          toJson({
            time,
            pid,
            bytes: s.size,
            allocations: s.count,
            stack: frames(stackId).map((f) => f.split("\t")[1] ?? f),
          }),
        );
      return;
    }
    io.out(`[${time}] Top ${top} stacks with outstanding allocations:`);
    if (o.showAllocs) for (const a of old) io.out(`\taddr = ${a.address.toString(16)} size = ${a.size}`);
    for (const [stackId, s] of ranked)
      io.out(`\t${s.size} bytes in ${s.count} allocations from stack\n\t\t${frames(stackId).join("\n\t\t")}`);
  };

  const childGone = child ? new Promise<void>((resolve) => child.once("exit", () => resolve())) : undefined;
  const stop = new AbortController();
  signal.addEventListener("abort", () => stop.abort(), { once: true });
  void childGone?.then(() => stop.abort());
  await everyInterval(
    {
      intervalMs: interval * 1000,
      ...(o.positionals.count !== undefined ? { count: o.positionals.count } : {}),
      signal: stop.signal,
      finalTick: true,
    },
    () => report(),
  );
  return 0;
}

export const memleak: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default memleak;
