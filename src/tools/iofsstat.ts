/**
 * iofsstat: who reads and writes which files (the guides' iofsstat): per process and file,
 * read/write counts and bandwidth from the read/write family syscall tracepoints, every
 * interval, heaviest first; above them each disk's IOPS, bandwidth, wait and utilisation from
 * /proc/diskstats, as the guide's "xxx-stat" lines.
 */
import { readFileSync } from "node:fs";
import { attachTracepoint } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, everyInterval } from "./common/cleanup.js";
import { clockTime } from "./common/format.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { Table, toJson } from "./common/output.js";
import { PrometheusExporter, type Labels } from "./common/prometheus.js";
import type { Tool, ToolIO } from "./common/tool.js";

const spec = defineTool({
  name: "iofsstat",
  summary: "Per-process, per-file read/write counts and bandwidth, with disk statistics",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "only this process", min: 1 },
    all: { kind: "flag", short: "a", help: "all files (pipes, sockets, devices), not only regular files" },
    top: {
      kind: "int",
      short: "T",
      arg: "N",
      help: "show the N busiest files per interval (default 20)",
      min: 1,
    },
    noDisks: { kind: "flag", short: "D", help: "leave out the per-disk lines" },
  },
  positionals: [
    { name: "interval", help: "output interval, in seconds (default 1)" },
    { name: "count", help: "number of outputs" },
  ],
  prometheus: true,
  examples: [
    ["iofsstat", "every second, the 20 busiest process/file pairs and each disk's statistics"],
    ["iofsstat -p 1234 5", "one process, every 5 seconds"],
    ["iofsstat -a 1 3", "all kinds of files, 3 times"],
  ],
});

const READ_SYSCALLS = ["read", "pread64", "readv", "preadv"];
const WRITE_SYSCALLS = ["write", "pwrite64", "writev", "pwritev"];
const MAX_DEPTH = 8;
const NAME_LEN = 32;

/** One process/file pair (struct file_key + file_stat of iofsstat.bpf.c). */
export interface FileIo {
  readonly pid: number;
  readonly comm: string;
  readonly dev: number;
  readonly inode: number;
  readonly path: string;
  readonly rdCnt: number;
  readonly rdBytes: number;
  readonly wrCnt: number;
  readonly wrBytes: number;
}

const cstr = (b: Uint8Array): string => {
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end)).toString("utf8");
};

/** The path from the stored dentry names (innermost first, the filesystem root "/" last). */
export function joinPath(names: readonly string[], depth: number): string {
  const parts = names.slice(0, depth).reverse();
  if (parts[0] === "/") return `/${parts.slice(1).join("/")}`;
  return `…/${parts.join("/")}`;
}

function decode(key: Uint8Array, value: Uint8Array): FileIo {
  const k = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const depth = v.getUint32(36, true);
  const names: string[] = [];
  for (let i = 0; i < MAX_DEPTH; i++)
    names.push(cstr(value.subarray(56 + i * NAME_LEN, 56 + (i + 1) * NAME_LEN)));
  return {
    pid: k.getUint32(0, true),
    dev: k.getUint32(4, true),
    inode: Number(k.getBigUint64(8, true)),
    rdCnt: Number(v.getBigUint64(0, true)),
    rdBytes: Number(v.getBigUint64(8, true)),
    wrCnt: Number(v.getBigUint64(16, true)),
    wrBytes: Number(v.getBigUint64(24, true)),
    comm: cstr(value.subarray(40, 56)),
    path: joinPath(names, depth),
  };
}

/** Bytes per second as iotop prints them: B/s, K/s, M/s, G/s. */
export function rate(bytes: number, seconds: number): string {
  let v = bytes / seconds;
  for (const unit of ["B/s", "K/s", "M/s"]) {
    if (v < 1024) return `${unit === "B/s" ? v.toFixed(0) : v.toFixed(1)}${unit}`;
    v /= 1024;
  }
  return `${v.toFixed(1)}G/s`;
}

/** One line of /proc/diskstats (the fields iofsstat uses). */
interface DiskCounters {
  readonly reads: number;
  readonly readSectors: number;
  readonly readMs: number;
  readonly writes: number;
  readonly writeSectors: number;
  readonly writeMs: number;
  readonly ioMs: number;
}

function diskstats(): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  let text = "";
  try {
    text = readFileSync("/proc/diskstats", "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const name = f[2]!;
    // whole disks only (not partitions, not idle loop/ram devices)
    if (/^(loop|ram)\d+$/.test(name) || /\d+p\d+$|^(sd|vd|hd|xvd)[a-z]+\d+$/.test(name)) continue;
    const n = f.map(Number);
    out.set(name, {
      reads: n[3]!,
      readSectors: n[5]!,
      readMs: n[6]!,
      writes: n[7]!,
      writeSectors: n[9]!,
      writeMs: n[10]!,
      ioMs: n[12]!,
    });
  }
  return out;
}

/** The guide's "xxx-stat" values of one disk over an interval. */
function diskLine(name: string, a: DiskCounters, b: DiskCounters, seconds: number) {
  const r = b.reads - a.reads;
  const w = b.writes - a.writes;
  const rWait = r > 0 ? (b.readMs - a.readMs) / r : 0;
  const wWait = w > 0 ? (b.writeMs - a.writeMs) / w : 0;
  return {
    disk: name,
    r_iops: r / seconds,
    w_iops: w / seconds,
    r_bps: ((b.readSectors - a.readSectors) * 512) / seconds,
    w_bps: ((b.writeSectors - a.writeSectors) * 512) / seconds,
    wait: r + w > 0 ? (b.readMs - a.readMs + b.writeMs - a.writeMs) / (r + w) : 0,
    r_wait: rWait,
    w_wait: wWait,
    util: Math.min(100, ((b.ioMs - a.ioMs) / (seconds * 1000)) * 100),
  };
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  const interval = o.positionals.interval ?? 1;
  const top = o.top ?? 20;

  using cleanup = new Cleanup();
  const coll = cleanup.use(
    loadToolObject("iofsstat", { constants: { targ_tgid: o.pid ?? 0, all_files: o.all } }),
  );
  for (const name of READ_SYSCALLS)
    cleanup.use(
      attachTracepoint(coll.program("enter_read"), { group: "syscalls", name: `sys_enter_${name}` }),
    );
  for (const name of WRITE_SYSCALLS)
    cleanup.use(
      attachTracepoint(coll.program("enter_write"), { group: "syscalls", name: `sys_enter_${name}` }),
    );
  for (const name of [...READ_SYSCALLS, ...WRITE_SYSCALLS])
    cleanup.use(attachTracepoint(coll.program("exit_rw"), { group: "syscalls", name: `sys_exit_${name}` }));
  const stats = coll.map("stats");

  // Totals since the start, for Prometheus counters (the map is cleared every interval).
  const totals = new Map<
    string,
    { labels: Labels; rdCnt: number; rdBytes: number; wrCnt: number; wrBytes: number }
  >();
  const labelsOf = (f: FileIo): Labels => ({ pid: f.pid, comm: f.comm, file: f.path });
  const accumulate = (list: readonly FileIo[]): void => {
    for (const f of list) {
      const id = `${f.pid}:${f.dev}:${f.inode}`;
      const t = totals.get(id) ?? { labels: labelsOf(f), rdCnt: 0, rdBytes: 0, wrCnt: 0, wrBytes: 0 };
      t.rdCnt += f.rdCnt;
      t.rdBytes += f.rdBytes;
      t.wrCnt += f.wrCnt;
      t.wrBytes += f.wrBytes;
      totals.set(id, t);
    }
  };
  if (o.prometheus) {
    const prom = await PrometheusExporter.start(o.prometheus, "iofsstat");
    cleanup.defer(() => void prom.close());
    const names = ["pid", "comm", "file"];
    const counter = (metric: string, help: string, field: "rdCnt" | "rdBytes" | "wrCnt" | "wrBytes") =>
      prom.counterFrom(metric, help, names, function* () {
        const now = new Map(totals);
        for (const [k, v] of stats.entries()) {
          const f = decode(k, v);
          const id = `${f.pid}:${f.dev}:${f.inode}`;
          const t = now.get(id);
          now.set(id, {
            ...(t ?? { labels: labelsOf(f), rdCnt: 0, rdBytes: 0, wrCnt: 0, wrBytes: 0 }),
            [field]: (t?.[field] ?? 0) + f[field],
          });
        }
        for (const t of now.values()) yield [t.labels, t[field]] as [Labels, number];
      });
    counter("tsbpf_iofsstat_reads_total", "read syscalls on the file", "rdCnt");
    counter("tsbpf_iofsstat_read_bytes_total", "bytes read from the file", "rdBytes");
    counter("tsbpf_iofsstat_writes_total", "write syscalls on the file", "wrCnt");
    counter("tsbpf_iofsstat_written_bytes_total", "bytes written to the file", "wrBytes");
    io.err(`serving Prometheus metrics at http://${prom.address}/metrics`);
  }

  const table = new Table<FileIo>(
    io,
    [
      { name: "COMM", width: 16, value: (f) => f.comm },
      { name: "PID", width: 7, right: true, value: (f) => f.pid },
      { name: "CNT_RD", width: 8, right: true, value: (f) => f.rdCnt },
      {
        name: "BW_RD",
        width: 9,
        right: true,
        value: (f) => f.rdBytes / interval,
        text: (f) => rate(f.rdBytes, interval),
      },
      { name: "CNT_WR", width: 8, right: true, value: (f) => f.wrCnt },
      {
        name: "BW_WR",
        width: 9,
        right: true,
        value: (f) => f.wrBytes / interval,
        text: (f) => rate(f.wrBytes, interval),
      },
      { name: "INODE", width: 10, right: true, value: (f) => f.inode },
      { name: "FILEPATH", value: (f) => f.path },
    ],
    o.json,
  );
  if (!o.json) io.out(`Tracing read/write of ${o.all ? "all" : "regular"} files... Hit Ctrl-C to end.`);
  let disks = diskstats();
  let last = process.hrtime.bigint();
  await everyInterval(
    {
      intervalMs: interval * 1000,
      ...(o.positionals.count !== undefined ? { count: o.positionals.count } : {}),
      signal,
      finalTick: true,
    },
    () => {
      const entries = [...stats.entries()];
      for (const [k] of entries) stats.delete(k);
      const now = process.hrtime.bigint();
      const seconds = Number(now - last) / 1e9;
      last = now;
      const list = entries.map(([k, v]) => decode(k, v));
      accumulate(list);
      list.sort((a, b) => b.rdBytes + b.wrBytes - (a.rdBytes + a.wrBytes));
      const time = clockTime();
      const nextDisks = diskstats();
      if (!o.json) io.out(`\n${time}`);
      if (!o.noDisks)
        for (const [name, b] of nextDisks) {
          const a = disks.get(name);
          if (!a) continue;
          const d = diskLine(name, a, b, seconds);
          if (o.json) io.out(toJson({ time, ...d }));
          else
            io.out(
              `${name}-stat: r_iops=${d.r_iops.toFixed(1)} w_iops=${d.w_iops.toFixed(1)} r_bps=${rate(d.r_bps, 1)} w_bps=${rate(d.w_bps, 1)} wait=${d.wait.toFixed(2)}ms r_wait=${d.r_wait.toFixed(2)}ms w_wait=${d.w_wait.toFixed(2)}ms util=${d.util.toFixed(1)}%`,
            );
        }
      disks = nextDisks;
      table.header();
      for (const f of list.slice(0, top)) {
        if (o.json) io.out(toJson({ time, ...table.object(f) }));
        else table.row(f);
      }
    },
  );
  return 0;
}

export const iofsstat: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default iofsstat;
