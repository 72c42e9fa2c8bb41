/**
 * exitsnoop: traces process exits with their age, exit code or signal, as libbpf-tools'
 * exitsnoop. BPF side: bpf/tools/exitsnoop.bpf.c (sched:sched_process_exit, ring buffer).
 *
 *     PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE
 *     sleep            5126    5119    5126    1.00    0
 *     sh               5131    5119    5131    0.01    signal 9 (Killed)
 */
import { constants } from "node:os";
import { links, ringbuf } from "../kernel/index.js";
import {
  Cleanup,
  DURATION_OPTION,
  Table,
  cString,
  defineTool,
  globalCounter,
  loadToolObject,
  parseToolArgs,
  runEventLoop,
  usageText,
  type Tool,
} from "./common/index.js";

const spec = defineTool({
  name: "exitsnoop",
  summary: "Trace process termination",
  options: {
    timestamp: { kind: "flag", short: "t", help: "include timestamp on output" },
    failed: { kind: "flag", short: "x", help: "trace error exits only" },
    pid: { kind: "int", short: "p", arg: "PID", help: "process ID to trace" },
    threaded: { kind: "flag", short: "T", help: "trace thread exits" },
    duration: DURATION_OPTION,
  },
  examples: [
    ["exitsnoop", "trace process exit events"],
    ["exitsnoop -t", "include timestamps"],
    ["exitsnoop -x", "trace error exits only"],
    ["exitsnoop -p 1216", "only trace PID 1216"],
    ["exitsnoop -T", "trace thread exit events"],
  ],
  prometheus: true,
});

const SIGNAL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(constants.signals).map(([name, n]) => [n, name]),
);
/** strsignal() texts of the common signals. */
const SIGNAL_TEXT: Readonly<Record<string, string>> = {
  SIGHUP: "Hangup",
  SIGINT: "Interrupt",
  SIGQUIT: "Quit",
  SIGILL: "Illegal instruction",
  SIGTRAP: "Trace/breakpoint trap",
  SIGABRT: "Aborted",
  SIGBUS: "Bus error",
  SIGFPE: "Floating point exception",
  SIGKILL: "Killed",
  SIGUSR1: "User defined signal 1",
  SIGSEGV: "Segmentation fault",
  SIGUSR2: "User defined signal 2",
  SIGPIPE: "Broken pipe",
  SIGALRM: "Alarm clock",
  SIGTERM: "Terminated",
  SIGXCPU: "CPU time limit exceeded",
  SIGXFSZ: "File size limit exceeded",
  SIGSYS: "Bad system call",
};

/** One exit as exitsnoop reports it. */
export interface ExitEvent {
  readonly time: string;
  readonly pcomm: string;
  readonly pid: number;
  readonly ppid: number;
  readonly tid: number;
  /** Seconds since the task started. */
  readonly age: number;
  readonly exitCode: number;
  /** Terminating signal (0 = normal exit). */
  readonly signal: number;
  readonly coreDump: boolean;
}

/** Decodes struct event of exitsnoop.bpf.c. */
export function decodeExitEvent(data: Uint8Array): ExitEvent {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sig = v.getUint32(28, true);
  return {
    time: new Date().toTimeString().slice(0, 8),
    age: Number(v.getBigUint64(8, true) - v.getBigUint64(0, true)) / 1e9,
    pid: v.getUint32(16, true),
    tid: v.getUint32(20, true),
    ppid: v.getUint32(24, true),
    signal: sig & 0x7f,
    coreDump: (sig & 0x80) !== 0,
    exitCode: v.getInt32(32, true),
    pcomm: cString(data, 36, 16),
  };
}

/** "code 0", "signal 9 (Killed)", "signal 11 (Segmentation fault), core dumped". */
export function exitText(e: ExitEvent): string {
  if (!e.signal) return `code ${e.exitCode}`;
  const name = SIGNAL_NAMES[e.signal];
  const text = (name && SIGNAL_TEXT[name]) ?? name ?? "Unknown signal";
  return `signal ${e.signal} (${text})${e.coreDump ? ", core dumped" : ""}`;
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    const table = new Table<ExitEvent>(
      io,
      [
        o.timestamp && { name: "TIME", width: 8, value: (e) => e.time },
        { name: "PCOMM", width: 16, value: (e) => e.pcomm },
        { name: "PID", width: 7, value: (e) => e.pid },
        { name: "PPID", width: 7, value: (e) => e.ppid },
        { name: "TID", width: 7, value: (e) => e.tid },
        { name: "AGE(s)", width: 7, value: (e) => e.age, text: (e) => e.age.toFixed(2) },
        o.json && { name: "SIGNAL", value: (e) => e.signal },
        { name: "EXIT_CODE", value: (e) => (o.json ? e.exitCode : exitText(e)) },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("exitsnoop", {
        constants: { target_pid: o.pid, trace_failed_only: o.failed, trace_by_process: !o.threaded },
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("sched_process_exit"), {
        group: "sched",
        name: "sched_process_exit",
      }),
    );
    await runEventLoop({
      tool: "exitsnoop",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: "Tracing process exits",
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) =>
        prom.counter("tsbpf_exitsnoop_exits_total", "process exits, by command and how they ended", [
          "comm",
          "how",
        ]),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, exits) => {
        const e = decodeExitEvent(data);
        exits?.inc({ comm: e.pcomm, how: e.signal ? `signal ${e.signal}` : e.exitCode ? "error" : "ok" });
        table.row(e);
      },
    });
    return 0;
  },
};

export default tool;
