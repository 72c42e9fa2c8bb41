/**
 * execsnoop: traces exec() syscalls, as libbpf-tools' execsnoop (same columns and options).
 * BPF side: bpf/tools/execsnoop.bpf.c (sys_enter/sys_exit_execve tracepoints, ring buffer).
 *
 *     PCOMM            PID    PPID   RET ARGS
 *     true             41290  41288    0 /bin/true
 */
import { links, ringbuf } from "../kernel/index.js";
import {
  Cleanup,
  DURATION_OPTION,
  Table,
  clockTime,
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
  name: "execsnoop",
  summary: "Trace exec() syscalls",
  options: {
    time: { kind: "flag", short: "T", help: "include time column on output (HH:MM:SS)" },
    timestamp: { kind: "flag", short: "t", help: "include timestamp on output (seconds since start)" },
    fails: { kind: "flag", short: "x", help: "include failed exec()s" },
    uid: { kind: "int", short: "u", arg: "UID", help: "trace this UID only" },
    quote: { kind: "flag", short: "q", help: 'add "quotemarks" around arguments' },
    name: {
      kind: "string",
      short: "n",
      arg: "NAME",
      help: "only print commands matching this name, any arg",
    },
    line: {
      kind: "string",
      short: "l",
      arg: "LINE",
      help: "only print commands where arg contains this line",
    },
    printUid: { kind: "flag", short: "U", help: "print UID column" },
    maxArgs: {
      kind: "int",
      arg: "MAX_ARGS",
      min: 1,
      help: "maximum number of arguments parsed and displayed, defaults to 20",
    },
    duration: DURATION_OPTION,
  },
  examples: [
    ["execsnoop", "trace all exec() syscalls"],
    ["execsnoop -x", "include failed exec()s"],
    ["execsnoop -T", "include time (HH:MM:SS)"],
    ["execsnoop -U", "include UID"],
    ["execsnoop -u 1000", "only trace UID 1000"],
    ["execsnoop -t", "include timestamps"],
    ["execsnoop -q", 'add "quotemarks" around arguments'],
    ["execsnoop -n main", 'only print command lines containing "main"'],
    ["execsnoop -l tpkg", 'only print command where arguments contains "tpkg"'],
    ["execsnoop --json", "one JSON object per exec()"],
    ["execsnoop --prometheus :9435", "also export exec counts by command"],
  ],
  prometheus: true,
});

/** Layout of struct event in bpf/tools/execsnoop.h. */
const EVENT = {
  pid: 0,
  ppid: 4,
  uid: 8,
  retval: 12,
  argsCount: 16,
  argsSize: 20,
  comm: 24,
  args: 40,
} as const;
const TOTAL_MAX_ARGS = 60;
const DEFAULT_MAXARGS = 20;

/** One exec() as execsnoop reports it. */
export interface ExecEvent {
  readonly time: string;
  readonly timestamp: number;
  readonly uid: number;
  readonly pcomm: string;
  readonly pid: number;
  readonly ppid: number;
  readonly ret: number;
  readonly args: readonly string[];
  /** The program passed more arguments than were copied. */
  readonly truncated: boolean;
}

/** Decodes one ring buffer record. */
export function decodeExecEvent(data: Uint8Array, maxArgs: number, startMs: number): ExecEvent {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getInt32(EVENT.argsCount, true);
  const size = view.getUint32(EVENT.argsSize, true);
  const args: string[] = [];
  let at = EVENT.args;
  const end = Math.min(data.length, EVENT.args + size);
  while (at < end && args.length < Math.min(count, maxArgs)) {
    const s = cString(data, at, end - at);
    args.push(s);
    at += Buffer.byteLength(s) + 1;
  }
  return {
    time: clockTime(),
    timestamp: (Date.now() - startMs) / 1000,
    uid: view.getUint32(EVENT.uid, true),
    pcomm: cString(data, EVENT.comm, 16),
    pid: view.getInt32(EVENT.pid, true),
    ppid: view.getInt32(EVENT.ppid, true),
    ret: view.getInt32(EVENT.retval, true),
    args,
    truncated: count > maxArgs,
  };
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    const maxArgs = o.maxArgs ?? DEFAULT_MAXARGS;
    if (maxArgs > TOTAL_MAX_ARGS) {
      io.err(`execsnoop: --max-args must be at most ${TOTAL_MAX_ARGS}`);
      return 2;
    }
    const quote = (a: string): string => (o.quote ? `"${a.replace(/"/g, '\\"')}"` : a);
    const table = new Table<ExecEvent>(
      io,
      [
        o.time && { name: "TIME", width: 8, value: (e) => e.time },
        o.timestamp && {
          name: "TIME(s)",
          width: 8,
          value: (e) => e.timestamp,
          text: (e) => e.timestamp.toFixed(3),
        },
        o.printUid && { name: "UID", width: 6, value: (e) => e.uid },
        { name: "PCOMM", width: 16, value: (e) => e.pcomm },
        { name: "PID", width: 6, value: (e) => e.pid },
        { name: "PPID", width: 6, value: (e) => e.ppid },
        { name: "RET", width: 3, right: true, value: (e) => e.ret },
        {
          name: "ARGS",
          value: (e) => e.args,
          text: (e) => e.args.map(quote).join(" ") + (e.truncated ? " ..." : ""),
        },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("execsnoop", {
        constants: { ignore_failed: !o.fails, targ_uid: o.uid, max_args: maxArgs },
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("tracepoint__syscalls__sys_enter_execve"), {
        group: "syscalls",
        name: "sys_enter_execve",
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("tracepoint__syscalls__sys_exit_execve"), {
        group: "syscalls",
        name: "sys_exit_execve",
      }),
    );
    const startMs = Date.now();
    await runEventLoop({
      tool: "execsnoop",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: "Tracing exec() syscalls",
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) =>
        prom.counter("tsbpf_execsnoop_execs_total", "exec() calls seen, by command and result", [
          "comm",
          "result",
        ]),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, execs) => {
        const e = decodeExecEvent(data, maxArgs, startMs);
        if (o.name !== undefined && !e.pcomm.includes(o.name) && !e.args.some((a) => a.includes(o.name!)))
          return;
        if (o.line !== undefined && !e.args.some((a) => a.includes(o.line!))) return;
        execs?.inc({ comm: e.pcomm, result: e.ret < 0 ? "error" : "ok" });
        table.row(e);
      },
    });
    return 0;
  },
};

export default tool;
