/**
 * offcputime: where threads block. At every sched_switch the thread leaving the CPU is stamped
 * with its kernel and user stacks; when it runs again the time it was off CPU is added to those
 * stacks (microseconds). Printed as BCC's offcputime prints it, folded (-f) for flamegraph.pl,
 * or as an interactive SVG flame graph (--svg FILE, the blue off-CPU palette).
 */
import { attachTpBtf } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, waitForEnd } from "./common/cleanup.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { reportStacks } from "./common/stack-report.js";
import { StackReader, TRACING_FRAMES, symbolizeStacks, type StackSample } from "./common/stacks.js";
import { Symbolizer } from "./common/symbolize.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const spec = defineTool({
  name: "offcputime",
  summary: "Summarize off-CPU time by stack trace",
  description:
    "Summarize off-CPU (blocked) time by kernel and user stack trace, in microseconds (sched_switch + stack-trace map), as BCC's offcputime.",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "trace this PID only", min: 1 },
    tid: { kind: "int", short: "t", arg: "TID", help: "trace this TID only", min: 1 },
    userThreadsOnly: { kind: "flag", short: "u", help: "user threads only (no kernel threads)" },
    kernelThreadsOnly: { kind: "flag", short: "k", help: "kernel threads only (no user threads)" },
    userStacksOnly: {
      kind: "flag",
      short: "U",
      help: "show stacks from user space only (no kernel space stacks)",
    },
    kernelStacksOnly: {
      kind: "flag",
      short: "K",
      help: "show stacks from kernel space only (no user space stacks)",
    },
    delimited: { kind: "flag", short: "d", help: "insert delimiter between kernel/user stacks" },
    folded: { kind: "flag", short: "f", help: "output folded format" },
    svg: { kind: "string", arg: "FILE", help: "also write an interactive SVG flame graph to FILE" },
    minBlockTime: {
      kind: "int",
      short: "m",
      arg: "US",
      help: "the amount of time in microseconds over which we store traces (default 1)",
    },
    maxBlockTime: {
      kind: "int",
      short: "M",
      arg: "US",
      help: "the amount of time in microseconds under which we store traces",
    },
    state: {
      kind: "int",
      arg: "STATE",
      help: "filter on this thread state bitmask (eg, 2 == TASK_UNINTERRUPTIBLE)",
    },
    stackStorageSize: {
      kind: "int",
      arg: "SIZE",
      help: "the number of unique stack traces that can be stored and displayed (default 16384)",
      min: 1,
    },
  },
  positionals: [{ name: "duration", help: "duration of trace, in seconds" }],
  examples: [
    ["offcputime", "trace off-CPU stack time until Ctrl-C"],
    ["offcputime 5", "trace for 5 seconds only"],
    ["offcputime -m 1000", "trace only events that last more than 1000 usec"],
    ["offcputime -M 10000", "trace only events that last less than 10000 usec"],
    ["offcputime -p 185", "only trace threads for PID 185"],
    ["offcputime -u", "only trace user threads (no kernel)"],
    ["offcputime -f 5", "5 seconds, folded output for flame graphs"],
    ["offcputime --svg off.svg 10", "write an off-CPU flame graph of 10 seconds"],
  ],
});

/** struct key_t of offcputime.bpf.c. */
function decodeKey(key: Uint8Array, value: Uint8Array): StackSample {
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const name = key.subarray(16, 32);
  const end = name.indexOf(0);
  return {
    pid: v.getUint32(0, true),
    tgid: v.getUint32(4, true),
    userStackId: v.getInt32(8, true),
    kernelStackId: v.getInt32(12, true),
    comm: Buffer.from(end < 0 ? name : name.subarray(0, end)).toString("utf8"),
    value: Number(new DataView(value.buffer, value.byteOffset).getBigUint64(0, true)),
  };
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  if (o.userStacksOnly && o.kernelStacksOnly)
    throw new ToolUsageError("-U and -K are exclusive: give one at most");
  if (o.userThreadsOnly && o.kernelThreadsOnly)
    throw new ToolUsageError("-u and -k are exclusive: give one at most");
  if (o.pid !== undefined && o.tid !== undefined) throw new ToolUsageError("-p and -t are exclusive");
  if (o.minBlockTime !== undefined && o.maxBlockTime !== undefined && o.minBlockTime > o.maxBlockTime)
    throw new ToolUsageError("-m must not exceed -M");
  const duration = o.positionals.duration;

  using cleanup = new Cleanup();
  const coll = cleanup.use(
    loadToolObject("offcputime", {
      constants: {
        targ_tgid: o.pid ?? 0,
        targ_pid: o.tid ?? 0,
        user_threads_only: o.userThreadsOnly,
        kernel_threads_only: o.kernelThreadsOnly,
        user_stacks_only: o.userStacksOnly,
        kernel_stacks_only: o.kernelStacksOnly,
        min_block_us: o.minBlockTime ?? 1,
        max_block_us: o.maxBlockTime !== undefined ? BigInt(o.maxBlockTime) : 0xffffffffffffffffn,
        targ_state: o.state ?? -1,
      },
      ...(o.stackStorageSize !== undefined ? { mapSizes: { stackmap: o.stackStorageSize } } : {}),
    }),
  );
  cleanup.use(attachTpBtf(coll.program("sched_switch")));

  if (!o.folded && !o.json) {
    const who = o.pid
      ? `PID ${o.pid}`
      : o.tid
        ? `TID ${o.tid}`
        : o.userThreadsOnly
          ? "user threads"
          : o.kernelThreadsOnly
            ? "kernel threads"
            : "all threads";
    const stacks = o.userStacksOnly ? "user" : o.kernelStacksOnly ? "kernel" : "user + kernel";
    io.out(
      `Tracing off-CPU time (us) of ${who} by ${stacks} stack${duration ? ` for ${duration} secs` : "... Hit Ctrl-C to end"}.`,
    );
  }
  // Until Ctrl-C or the duration.
  await waitForEnd(signal, duration !== undefined ? duration * 1000 : undefined);

  const samples = [...coll.map("info").entries()]
    .map(([k, v]) => decodeKey(k, v))
    .sort((a, b) => a.value - b.value);
  const symbolized = symbolizeStacks(samples, new StackReader(coll.map("stackmap")), new Symbolizer(), {
    userStacksOnly: o.userStacksOnly,
    kernelStacksOnly: o.kernelStacksOnly,
    dropInnermost: TRACING_FRAMES,
  });
  reportStacks(symbolized, {
    io,
    json: o.json,
    folded: o.folded,
    delimited: o.delimited,
    svg: o.svg,
    valueName: "usecs",
    flameGraph: {
      title: "Off-CPU Time Flame Graph",
      subtitle: `tsbpf offcputime ${args.join(" ")}`.trim(),
      countName: "us",
      colors: "blue",
    },
  });
  return 0;
}

export const offcputime: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default offcputime;
