/**
 * opensnoop: traces open() and openat(), as libbpf-tools' opensnoop (same columns and options).
 * BPF side: bpf/tools/opensnoop.bpf.c (syscalls tracepoints, ring buffer).
 *
 *     PID    COMM              FD ERR PATH
 *     4123   cat                3   0 /etc/hostname
 */
import { links, ringbuf } from "../kernel/index.js";
import {
  Cleanup,
  ERRNO_NAMES,
  Table,
  cString,
  defineTool,
  loadToolObject,
  parseToolArgs,
  usageText,
  type Tool,
  runEventLoop,
  globalCounter,
} from "./common/index.js";

const spec = defineTool({
  name: "opensnoop",
  summary: "Trace open family syscalls",
  options: {
    timestamp: { kind: "flag", short: "T", help: "print timestamp" },
    printUid: { kind: "flag", short: "U", help: "print UID" },
    extended: { kind: "flag", short: "e", help: "extended fields in output (FLAGS)" },
    pid: { kind: "int", short: "p", arg: "PID", help: "process ID to trace" },
    tid: { kind: "int", short: "t", arg: "TID", help: "thread ID to trace" },
    uid: { kind: "int", short: "u", arg: "UID", help: "user ID to trace" },
    name: { kind: "string", short: "n", arg: "NAME", help: "trace process names containing this" },
    failed: { kind: "flag", short: "x", help: "failed opens only" },
    duration: { kind: "int", short: "d", arg: "DURATION", min: 1, help: "duration to trace (seconds)" },
  },
  examples: [
    ["opensnoop", "trace all open() syscalls"],
    ["opensnoop -T", "include timestamps"],
    ["opensnoop -U", "include UID"],
    ["opensnoop -x", "only show failed opens"],
    ["opensnoop -p 181", "only trace PID 181"],
    ["opensnoop -t 123", "only trace TID 123"],
    ["opensnoop -u 1000", "only trace UID 1000"],
    ["opensnoop -d 10", "trace for 10 seconds only"],
    ["opensnoop -n main", 'only print process names containing "main"'],
    ["opensnoop -e", "show extended fields"],
    ["opensnoop --json", "one JSON object per open"],
  ],
  prometheus: true,
});

/** One open as opensnoop reports it. */
export interface OpenEvent {
  readonly timestamp: number;
  readonly uid: number;
  readonly pid: number;
  readonly tid: number;
  readonly comm: string;
  readonly fd: number;
  readonly err: number;
  readonly flags: number;
  readonly path: string;
}

/** Decodes struct event of opensnoop.bpf.c (ts@0 pid@8 tid@12 uid@16 ret@20 flags@24 comm@28 fname@44). */
export function decodeOpenEvent(data: Uint8Array): OpenEvent & { readonly ts: bigint } {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ret = v.getInt32(20, true);
  return {
    ts: v.getBigUint64(0, true),
    timestamp: 0,
    pid: v.getInt32(8, true),
    tid: v.getInt32(12, true),
    uid: v.getUint32(16, true),
    fd: ret >= 0 ? ret : -1,
    err: ret >= 0 ? 0 : -ret,
    flags: v.getInt32(24, true),
    comm: cString(data, 28, 16),
    path: cString(data, 44, 255),
  };
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    const table = new Table<OpenEvent>(
      io,
      [
        o.timestamp && {
          name: "TIME(s)",
          width: 8,
          value: (e) => e.timestamp,
          text: (e) => e.timestamp.toFixed(6),
        },
        o.printUid && { name: "UID", width: 6, value: (e) => e.uid },
        { name: "PID", width: 6, value: (e) => e.pid },
        { name: "COMM", width: 16, value: (e) => e.comm },
        { name: "FD", width: 3, right: true, value: (e) => e.fd },
        { name: "ERR", width: 3, right: true, value: (e) => e.err },
        o.extended && {
          name: "FLAGS",
          width: 8,
          value: (e) => e.flags,
          text: (e) => e.flags.toString(8).padStart(8, "0"),
        },
        { name: "PATH", value: (e) => e.path },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("opensnoop", {
        constants: { targ_tgid: o.pid, targ_pid: o.tid, targ_uid: o.uid, targ_failed: o.failed },
      }),
    );
    for (const call of ["open", "openat"])
      for (const side of ["enter", "exit"]) {
        const name = `sys_${side}_${call}`;
        try {
          cleanup.use(
            links.attachTracepoint(obj.program(`tracepoint__syscalls__${name}`), { group: "syscalls", name }),
          );
        } catch (e) {
          // open(2) has no tracepoint on architectures without the syscall (arm64): openat is enough.
          if (call === "openat") throw e;
          io.err(`opensnoop: no syscalls:${name} tracepoint (${(e as Error).message}): tracing openat only`);
        }
      }
    let first: bigint | undefined;
    await runEventLoop({
      tool: "opensnoop",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: "Tracing open() syscalls",
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) =>
        prom.counter("tsbpf_opensnoop_opens_total", "open() calls seen, by command and errno", [
          "comm",
          "errno",
        ]),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, opens) => {
        const raw = decodeOpenEvent(data);
        if (o.name !== undefined && !raw.comm.includes(o.name)) return;
        first ??= raw.ts;
        opens?.inc({ comm: raw.comm, errno: raw.err ? (ERRNO_NAMES[raw.err] ?? String(raw.err)) : "0" });
        table.row({ ...raw, timestamp: Number(raw.ts - first) / 1e9 });
      },
    });
    return 0;
  },
};

export default tool;
