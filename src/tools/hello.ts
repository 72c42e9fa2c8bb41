/**
 * hello: the guides' first eBPF program: "Hello, eBPF world!" for every clone() (every new
 * process or thread). By default the message goes through bpf_trace_printk and is read back
 * from trace_pipe, as BCC's trace_print() does; --ringbuf sends {pid, ppid, comm} through a
 * ring buffer instead. The guide hooks clone with a kprobe: used when the kernel has kprobes,
 * else the syscalls:sys_enter_clone/clone3 tracepoints (one line says which).
 * BPF side: bpf/tools/hello.bpf.c.
 *
 *     bash-1234    [001] ...21  4210.123456: bpf_trace_printk: Hello, eBPF world!
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { links, ringbuf, systemTracefs, type KernelCollection } from "../kernel/index.js";
import {
  Cleanup,
  DURATION_OPTION,
  Table,
  cString,
  defineTool,
  loadToolObject,
  parseToolArgs,
  pollUntil,
  sleep,
  toJson,
  untilSignal,
  usageText,
  type Tool,
  type ToolIO,
} from "./common/index.js";

const MESSAGE = "Hello, eBPF world!";

const spec = defineTool({
  name: "hello",
  summary: "Print a line for every clone() (the guides' first eBPF program)",
  options: {
    ringbuf: { kind: "flag", short: "r", help: "send events through a ring buffer instead of trace_pipe" },
    hook: {
      kind: "string",
      arg: "HOOK",
      help: "where to hook clone: auto (kprobe, else tracepoint)",
      choices: ["auto", "kprobe", "tracepoint"],
    },
    duration: DURATION_OPTION,
  },
  examples: [
    ["hello", "Hello, eBPF world! through trace_pipe, as in the guide"],
    ["hello --ringbuf", "the same through a ring buffer, with PID, PPID and COMM"],
  ],
});

/** One trace_pipe line of bpf_trace_printk, split into fields. */
export interface TraceLine {
  readonly task: string;
  readonly pid: number;
  readonly cpu: number;
  readonly flags: string;
  readonly timestamp: number;
  readonly message: string;
}

const TRACE_LINE = /^\s*(.*)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+([\d.]+): bpf_trace_printk: (.*)$/;

/** Parses "comm-pid [cpu] flags ts: bpf_trace_printk: msg"; undefined for other lines. */
export function parseTraceLine(line: string): TraceLine | undefined {
  const m = TRACE_LINE.exec(line);
  if (!m) return undefined;
  return {
    task: m[1]!,
    pid: Number(m[2]),
    cpu: Number(m[3]),
    flags: m[4]!,
    timestamp: Number(m[5]),
    message: m[6]!,
  };
}

/** Attaches the clone hooks: kprobes when possible (auto), else tracepoints; returns which. */
function attach(obj: KernelCollection, cleanup: Cleanup, hook: string, io: ToolIO): "kprobe" | "tracepoint" {
  if (hook !== "tracepoint") {
    const probes = new Cleanup();
    try {
      probes.use(links.attachKprobe(obj.program("hello_clone_kprobe"), { symbol: "__x64_sys_clone" }));
      probes.use(links.attachKprobe(obj.program("hello_clone3_kprobe"), { symbol: "__x64_sys_clone3" }));
      cleanup.use(probes);
      return "kprobe";
    } catch (e) {
      probes.close();
      if (hook === "kprobe") throw e;
      io.err(`hello: ${(e as Error).message}; using tracepoints syscalls:sys_enter_clone/clone3 instead`);
    }
  }
  for (const name of ["clone", "clone3"])
    cleanup.use(
      links.attachTracepoint(obj.program(`hello_${name}_tp`), {
        group: "syscalls",
        name: `sys_enter_${name}`,
      }),
    );
  return "tracepoint";
}

/** Reads trace_pipe without blocking the event loop until `signal` aborts, printing our lines. */
async function readTracePipe(signal: AbortSignal, json: boolean, io: ToolIO): Promise<void> {
  const fd = openSync(systemTracefs().path("trace_pipe"), constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(64 * 1024);
  let partial = "";
  try {
    while (!signal.aborted) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      }
      if (n <= 0) {
        await sleep(50, signal);
        continue;
      }
      const lines = (partial + buf.toString("utf8", 0, n)).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        // trace_pipe is shared by every program: keep ours.
        if (!line.endsWith(MESSAGE)) continue;
        const parsed = parseTraceLine(line);
        io.out(json && parsed ? toJson(parsed) : line);
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface HelloEvent {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    using cleanup = new Cleanup();
    const obj = cleanup.use(loadToolObject("hello", { constants: { use_ringbuf: o.ringbuf } }));
    const hook = attach(obj, cleanup, o.hook ?? "auto", io);
    const stop = untilSignal(signal, o.duration !== undefined ? o.duration * 1000 : undefined);
    io.err(`Tracing clone() (${hook}, ${o.ringbuf ? "ring buffer" : "trace_pipe"})... Hit Ctrl-C to end.`);
    try {
      if (!o.ringbuf) {
        await readTracePipe(stop.signal, o.json, io);
        return 0;
      }
      const table = new Table<HelloEvent>(
        io,
        [
          { name: "PID", width: 7, value: (e) => e.pid },
          { name: "PPID", width: 7, value: (e) => e.ppid },
          { name: "COMM", width: 16, value: (e) => e.comm },
          { name: "MESSAGE", value: () => MESSAGE },
        ],
        o.json,
      );
      table.header();
      const reader = cleanup.use(ringbuf.RingBufferReader.open(obj.map("events")));
      await pollUntil(reader, stop.signal, (data) => {
        const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
        table.row({ pid: v.getUint32(0, true), ppid: v.getUint32(4, true), comm: cString(data, 8, 16) });
      });
      return 0;
    } finally {
      stop.close();
    }
  },
};

export default tool;
