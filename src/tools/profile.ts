/**
 * profile: a CPU profiler. A perf_event program on a cpu-clock event samples every CPU N times
 * a second (49 by default, off the 50/100 Hz timers), counting samples per process and per
 * (user stack, kernel stack) pair in a stack-trace map; at the end the stacks are symbolized
 * (kallsyms, ELF symbols of the mapped files) and printed as BCC's profile prints them, folded
 * for flamegraph.pl (-f), or drawn as an interactive SVG flame graph (--svg FILE).
 */
import { attachPerfEvent } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, waitForEnd } from "./common/cleanup.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { reportStacks } from "./common/stack-report.js";
import { StackReader, symbolizeStacks, type StackSample } from "./common/stacks.js";
import { Symbolizer } from "./common/symbolize.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const spec = defineTool({
  name: "profile",
  summary: "Profile CPU usage by sampling stack traces at a timed interval",
  description:
    "Profile CPU usage by sampling kernel and user stack traces on every CPU at a timed interval (perf_event + stack-trace map), as BCC's profile.",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "profile this process only", min: 1 },
    tid: { kind: "int", short: "L", arg: "TID", help: "profile this thread only", min: 1 },
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
    frequency: { kind: "int", short: "F", arg: "HZ", help: "sample frequency, Hertz (default 49)", min: 1 },
    count: {
      kind: "int",
      short: "c",
      arg: "N",
      help: "sample period, number of events (cpu-clock ns)",
      min: 1,
    },
    delimited: { kind: "flag", short: "d", help: "insert delimiter between kernel/user stacks" },
    annotations: { kind: "flag", short: "a", help: "add _[k] annotations to kernel frames" },
    includeIdle: { kind: "flag", short: "I", help: "include CPU idle stacks" },
    folded: { kind: "flag", short: "f", help: "output folded format, one line per stack (for flame graphs)" },
    svg: { kind: "string", arg: "FILE", help: "also write an interactive SVG flame graph to FILE" },
    cpu: { kind: "int", short: "C", arg: "CPU", help: "cpu number to run profile on" },
    stackStorageSize: {
      kind: "int",
      arg: "SIZE",
      help: "the number of unique stack traces that can be stored and displayed (default 16384)",
      min: 1,
    },
  },
  positionals: [{ name: "duration", help: "duration of trace, in seconds" }],
  examples: [
    ["profile", "profile stack traces at 49 Hertz until Ctrl-C"],
    ["profile -F 99", "profile stack traces at 99 Hertz"],
    ["profile -c 1000000", "profile stack traces every 1 in a million events"],
    ["profile 5", "profile at 49 Hertz for 5 seconds only"],
    ["profile -f 5", "output in folded format for flame graphs"],
    ["profile --svg cpu.svg 10", "write a flame graph of 10 seconds"],
    ["profile -p 185", "only profile process with PID 185"],
    ["profile -U", "only show user space stacks (no kernel)"],
    ["profile -K", "only show kernel space stacks (no user)"],
  ],
});

/** struct key_t of profile.bpf.c. */
function decodeKey(key: Uint8Array, value: Uint8Array): StackSample {
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const name = key.subarray(12, 28);
  const end = name.indexOf(0);
  return {
    pid: v.getUint32(0, true),
    userStackId: v.getInt32(4, true),
    kernelStackId: v.getInt32(8, true),
    comm: Buffer.from(end < 0 ? name : name.subarray(0, end)).toString("utf8"),
    value: Number(new DataView(value.buffer, value.byteOffset).getBigUint64(0, true)),
  };
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  if (o.userStacksOnly && o.kernelStacksOnly)
    throw new ToolUsageError("-U and -K are exclusive: give one at most");
  if (o.frequency !== undefined && o.count !== undefined)
    throw new ToolUsageError("-F and -c are exclusive: give one at most");
  const frequency = o.count === undefined ? (o.frequency ?? 49) : undefined;
  const duration = o.positionals.duration;

  using cleanup = new Cleanup();
  const coll = cleanup.use(
    loadToolObject("profile", {
      constants: {
        targ_pid: o.pid ?? 0,
        targ_tid: o.tid ?? 0,
        user_stacks_only: o.userStacksOnly,
        kernel_stacks_only: o.kernelStacksOnly,
        include_idle: o.includeIdle,
      },
      ...(o.stackStorageSize !== undefined ? { mapSizes: { stackmap: o.stackStorageSize } } : {}),
    }),
  );
  cleanup.use(
    attachPerfEvent(coll.program("do_perf_event"), {
      ...(frequency !== undefined ? { sampleFreq: frequency } : { samplePeriod: o.count! }),
      ...(o.cpu !== undefined ? { cpus: [o.cpu] } : {}),
    }),
  );

  if (!o.folded && !o.json) {
    const what = frequency !== undefined ? `${frequency} Hertz` : `every ${o.count} events`;
    const who = o.pid ? `PID ${o.pid}` : o.tid ? `TID ${o.tid}` : "all threads";
    const stacks = o.userStacksOnly ? "user" : o.kernelStacksOnly ? "kernel" : "user + kernel";
    const forSecs = duration ? ` for ${duration} secs` : "";
    io.out(`Sampling at ${what} of ${who} by ${stacks} stack${forSecs}... Hit Ctrl-C to end.`);
  }
  // Until Ctrl-C or the duration.
  await waitForEnd(signal, duration !== undefined ? duration * 1000 : undefined);

  // Stop sampling before reading, so the numbers do not move under us.
  const counts = coll.map("counts");
  const samples = [...counts.entries()].map(([k, v]) => decodeKey(k, v));
  samples.sort((a, b) => a.value - b.value);
  const symbolized = symbolizeStacks(samples, new StackReader(coll.map("stackmap")), new Symbolizer(), {
    userStacksOnly: o.userStacksOnly,
    kernelStacksOnly: o.kernelStacksOnly,
    annotate: o.annotations,
  });
  reportStacks(symbolized, {
    io,
    json: o.json,
    folded: o.folded,
    delimited: o.delimited,
    svg: o.svg,
    valueName: "count",
    flameGraph: {
      title: "CPU Flame Graph",
      subtitle: `tsbpf profile ${args.join(" ")}`.trim(),
      countName: "samples",
      colors: o.annotations ? "java" : "hot",
    },
    svgTotal: `${samples.reduce((n, s) => n + s.value, 0)} samples`,
  });
  return 0;
}

export const profile: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  run,
};
export default profile;
