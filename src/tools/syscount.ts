/**
 * syscount: counts system calls by syscall (or by process with -P), top N per interval, with
 * their total time with -L, as libbpf-tools' syscount. BPF side: bpf/tools/syscount.bpf.c
 * (raw_syscalls tracepoints, a hash map read and cleared at each interval).
 *
 *     [12:01:07]
 *     SYSCALL                   COUNT
 *     futex                       466
 *     read                        102
 */
import { links } from "../kernel/index.js";
import {
  Cleanup,
  PrometheusExporter,
  Table,
  ToolUsageError,
  clockTime,
  cString,
  defineTool,
  loadToolObject,
  parseToolArgs,
  printSummaries,
  syscallName,
  toJson,
  usageText,
  type Tool,
} from "./common/index.js";

const spec = defineTool({
  name: "syscount",
  summary: "Summarize syscall counts and latencies",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "process ID to trace" },
    interval: {
      kind: "int",
      short: "i",
      arg: "INTERVAL",
      min: 1,
      help: "print summary at this interval (seconds)",
    },
    duration: { kind: "int", short: "d", arg: "DURATION", min: 1, help: "total duration of trace (seconds)" },
    top: { kind: "int", short: "T", arg: "TOP", min: 1, help: "print only the top syscalls (default 10)" },
    failures: { kind: "flag", short: "x", help: "trace only failed syscalls" },
    latency: { kind: "flag", short: "L", help: "collect syscall latency" },
    milliseconds: {
      kind: "flag",
      short: "m",
      help: "display latency in milliseconds (default: microseconds)",
    },
    process: { kind: "flag", short: "P", help: "count by process and not by syscall" },
    errno: {
      kind: "string",
      short: "e",
      arg: "ERRNO",
      help: "trace only syscalls that return this error (numeric or EPERM, etc.)",
    },
    list: { kind: "flag", short: "l", help: "print list of recognized syscalls and exit" },
  },
  examples: [
    ["syscount", "trace and count all syscalls"],
    ["syscount -p 1216", "only trace PID 1216"],
    ["syscount -i 1", "print every second"],
    ["syscount -L", "include syscall latency"],
    ["syscount -P", "count by process"],
    ["syscount -x -e ENOENT", "count syscalls failing with ENOENT"],
    ["syscount -d 5 --json", "5 seconds, then one JSON object"],
  ],
  prometheus: true,
});

const ERRNOS: Readonly<Record<string, number>> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EALREADY: 114,
  EINPROGRESS: 115,
};

/** One row of a summary. */
export interface SyscountRow {
  /** Syscall number, or PID with -P. */
  readonly key: number;
  readonly comm: string;
  readonly count: number;
  readonly totalNs: number;
}

/** Reads and clears the BPF `data` map (key u32, value {u64 count, u64 total_ns, char comm[16]}). */
function drain(map: {
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  delete(k: Uint8Array): boolean;
}): SyscountRow[] {
  const rows: SyscountRow[] = [];
  for (const [k, v] of [...map.entries()]) {
    map.delete(k);
    const kv = new DataView(k.buffer, k.byteOffset, k.byteLength);
    const vv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    rows.push({
      key: kv.getUint32(0, true),
      count: Number(vv.getBigUint64(0, true)),
      totalNs: Number(vv.getBigUint64(8, true)),
      comm: cString(v, 16, 16),
    });
  }
  return rows;
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    if (o.list) {
      for (let nr = 0; nr < 1024; nr++) {
        const name = syscallName(nr);
        if (!name.startsWith("[")) io.out(`${String(nr).padStart(3)}: ${name}`);
      }
      return 0;
    }
    let errno = 0;
    if (o.errno !== undefined) {
      errno = /^\d+$/.test(o.errno) ? Number(o.errno) : (ERRNOS[o.errno.toUpperCase()] ?? 0);
      if (!errno) throw new ToolUsageError(`-e: unknown errno '${o.errno}'`);
    }
    const top = o.top ?? 10;
    const div = o.milliseconds ? 1e6 : 1e3;
    const unit = o.milliseconds ? "TIME (ms)" : "TIME (us)";
    const table = new Table<SyscountRow>(
      io,
      [
        o.process
          ? {
              name: "PID    COMM",
              width: 22,
              key: "pid",
              value: (r) => r.key,
              text: (r) => `${String(r.key).padEnd(6)} ${r.comm.padEnd(15)}`,
            }
          : { name: "SYSCALL", width: 22, key: "syscall", value: (r) => syscallName(r.key) },
        o.process && o.json && { name: "COMM", value: (r) => r.comm },
        { name: "COUNT", width: 8, right: true, value: (r) => r.count },
        o.latency && {
          name: unit,
          width: 16,
          right: true,
          key: o.milliseconds ? "time_ms" : "time_us",
          value: (r) => r.totalNs / div,
          text: (r) => (r.totalNs / div).toFixed(3),
        },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("syscount", {
        constants: {
          filter_pid: o.pid,
          count_by_process: o.process,
          measure_latency: o.latency,
          filter_failed: o.failures,
          filter_errno: errno,
        },
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("sys_enter"), { group: "raw_syscalls", name: "sys_enter" }),
    );
    cleanup.use(links.attachTracepoint(obj.program("sys_exit"), { group: "raw_syscalls", name: "sys_exit" }));
    const data = obj.map("data");

    const totals = new Map<string, { count: number; ns: number }>();
    let prom: PrometheusExporter | undefined;
    if (o.prometheus) {
      prom = await PrometheusExporter.start(o.prometheus, "syscount");
      const label = o.process ? "comm" : "syscall";
      prom.counterFrom("tsbpf_syscount_calls_total", "system calls seen", [label], () =>
        [...totals].map(([k, t]) => [{ [label]: k }, t.count] as [Record<string, string>, number]),
      );
      if (o.latency)
        prom.counterFrom("tsbpf_syscount_seconds_total", "time spent in system calls", [label], () =>
          [...totals].map(([k, t]) => [{ [label]: k }, t.ns / 1e9] as [Record<string, string>, number]),
        );
      io.err(`syscount: serving Prometheus metrics at http://${prom.address}/metrics`);
    }

    io.err(`Tracing syscalls, printing top ${top}... Ctrl+C to quit.`);
    const print = (): void => {
      const rows = drain(data);
      for (const r of rows) {
        const k = o.process ? r.comm : syscallName(r.key);
        const t = totals.get(k) ?? { count: 0, ns: 0 };
        totals.set(k, { count: t.count + r.count, ns: t.ns + r.totalNs });
      }
      rows.sort((a, b) => (o.latency ? b.totalNs - a.totalNs : b.count - a.count) || a.key - b.key);
      const shown = rows.slice(0, top);
      if (o.json) {
        io.out(
          toJson({
            time: clockTime(),
            [o.process ? "processes" : "syscalls"]: shown.map((r) => table.object(r)),
          }),
        );
        return;
      }
      io.out(`[${clockTime()}]`);
      table.header();
      for (const r of shown) table.row(r);
      io.out("");
    };
    try {
      // Without -i: one summary at the end (Ctrl-C or -d), as libbpf-tools; with -i, -d counts intervals.
      const durationMs = o.duration !== undefined ? o.duration * 1000 : undefined;
      const count =
        o.duration !== undefined && o.interval !== undefined
          ? Math.max(1, Math.floor(o.duration / o.interval))
          : undefined;
      await printSummaries(
        {
          ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}),
          ...(count !== undefined ? { count } : {}),
          ...(durationMs !== undefined ? { durationMs } : {}),
          signal,
        },
        print,
      );
    } finally {
      await prom?.close();
    }
    return 0;
  },
};

export default tool;
