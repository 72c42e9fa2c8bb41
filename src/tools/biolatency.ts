/**
 * biolatency: block device I/O latency as log2 histograms (BCC / libbpf-tools biolatency), from
 * block:block_rq_issue (or block_rq_insert with -Q) to block:block_rq_complete; per disk (-D)
 * and per request flags (-F) as BCC prints them.
 */
import { readFileSync } from "node:fs";
import { attachTpBtf } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, printSummaries } from "./common/cleanup.js";
import { clockTime } from "./common/format.js";
import { formatLog2Histogram, log2HistogramJson, readSlots } from "./common/histogram.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { toJson } from "./common/output.js";
import { PrometheusExporter, type Log2Series } from "./common/prometheus.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const MAX_SLOTS = 27;

const spec = defineTool({
  name: "biolatency",
  summary: "Summarize block device I/O latency as a histogram",
  options: {
    timestamp: { kind: "flag", short: "T", help: "include timestamp on output" },
    queued: { kind: "flag", short: "Q", help: "include OS queued time in I/O time" },
    milliseconds: { kind: "flag", short: "m", help: "millisecond histogram" },
    disks: { kind: "flag", short: "D", help: "print a histogram per disk device" },
    flags: { kind: "flag", short: "F", help: "print a histogram per set of I/O flags" },
    disk: { kind: "string", short: "d", arg: "DISK", help: "trace this disk only (e.g. vda)" },
  },
  positionals: [
    { name: "interval", help: "output interval, in seconds" },
    { name: "count", help: "number of outputs" },
  ],
  prometheus: true,
  examples: [
    ["biolatency", "summarize block I/O latency as a histogram"],
    ["biolatency 1 10", "print 1 second summaries, 10 times"],
    ["biolatency -mT 1", "1s summaries, milliseconds, and timestamps"],
    ["biolatency -Q", "include OS queued time in I/O time"],
    ["biolatency -D", "show each disk device separately"],
    ["biolatency -F", "show I/O flags separately"],
    ["biolatency -d vda", "trace vda only"],
  ],
});

/** The kernel's dev_t of a disk (MKDEV: major << 20 | minor). */
const mkdev = (major: number, minor: number): number => ((major << 20) | minor) >>> 0;

/** Disk names by dev_t, from /proc/partitions. */
function diskNames(): Map<number, string> {
  const out = new Map<number, string>();
  let text = "";
  try {
    text = readFileSync("/proc/partitions", "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+\d+\s+(\S+)$/.exec(line);
    if (m) out.set(mkdev(Number(m[1]), Number(m[2])), m[3]!);
  }
  return out;
}

/** REQ_OP_* names (op = cmd_flags & 0xff), as BCC's biolatency. */
const REQ_OPS: Readonly<Record<number, string>> = {
  0: "Read",
  1: "Write",
  2: "Flush",
  3: "Discard",
  5: "SecureErase",
  6: "ZoneReset",
  7: "WriteSame",
  9: "WriteZeros",
};
/** REQ_* flag bits (enum req_flag_bits, REQ_OP_BITS = 8) in the order BCC prefixes them. */
const REQ_FLAGS: readonly [number, string][] = [
  [8 + 3, "Sync"],
  [8 + 4, "Metadata"],
  [8 + 9, "ForcedUnitAccess"],
  [8 + 5, "Priority"],
  [8 + 6, "NoMerge"],
  [8 + 7, "Idle"],
  [8 + 11, "ReadAhead"],
  [8 + 12, "Background"],
  [8 + 13, "NoWait"],
];

/** BCC's flags_print: "Sync-Write", "ReadAhead-Read"… */
export function requestFlags(cmdFlags: number): string {
  let desc = REQ_OPS[cmdFlags & 0xff] ?? "Unknown";
  for (const [bit, name] of REQ_FLAGS) if (cmdFlags & (1 << bit)) desc = `${name}-${desc}`;
  return desc;
}

interface Hist {
  readonly key: Uint8Array;
  readonly cmdFlags: number;
  readonly dev: number;
  readonly slots: number[];
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  const unit = o.milliseconds ? "msecs" : "usecs";
  const { interval, count } = o.positionals;
  const names = diskNames();
  let targDev = 0;
  const wantedDisk = o.disk;
  if (wantedDisk !== undefined) {
    const found = [...names].find(([, n]) => n === wantedDisk.replace(/^\/dev\//, ""));
    if (!found) throw new ToolUsageError(`-d: no disk '${o.disk}' in /proc/partitions`);
    targDev = found[0];
  }

  using cleanup = new Cleanup();
  const coll = cleanup.use(
    loadToolObject("biolatency", {
      constants: {
        targ_per_disk: o.disks,
        targ_per_flag: o.flags,
        targ_queued: o.queued,
        targ_ms: o.milliseconds,
        filter_dev: o.disk !== undefined,
        targ_dev: targDev,
      },
    }),
  );
  const programs = o.queued
    ? ["block_rq_insert", "block_rq_issue", "block_rq_complete"]
    : ["block_rq_issue", "block_rq_complete"];
  for (const name of programs) cleanup.use(attachTpBtf(coll.program(name)));
  const hists = coll.map("hists");
  const read = (): Hist[] =>
    [...hists.entries()]
      .map(([k, v]) => {
        const view = new DataView(k.buffer, k.byteOffset);
        return {
          key: k,
          cmdFlags: view.getUint32(0, true),
          dev: view.getUint32(4, true),
          slots: readSlots(v, MAX_SLOTS),
        };
      })
      .sort((a, b) => a.dev - b.dev || a.cmdFlags - b.cmdFlags);
  const diskName = (dev: number): string => names.get(dev) ?? `${dev >>> 20}:${dev & 0xfffff}`;
  const labels = (h: Hist): Record<string, string> => ({
    ...(o.disks ? { disk: diskName(h.dev) } : {}),
    ...(o.flags ? { flags: requestFlags(h.cmdFlags) } : {}),
  });

  const cumulative = new Map<string, Log2Series>();
  if (o.prometheus) {
    const prom = await PrometheusExporter.start(o.prometheus, "biolatency");
    cleanup.defer(() => void prom.close());
    prom.log2Histogram("tsbpf_biolatency_seconds", "block I/O latency", o.milliseconds ? 1e-3 : 1e-6, () => {
      const now = new Map(cumulative);
      for (const h of read()) {
        const id = JSON.stringify(labels(h));
        const prev = now.get(id)?.slots;
        now.set(id, { labels: labels(h), slots: prev ? h.slots.map((n, i) => n + (prev[i] ?? 0)) : h.slots });
      }
      return now.values();
    });
    io.err(`serving Prometheus metrics at http://${prom.address}/metrics`);
  }

  if (!o.json) io.out("Tracing block device I/O... Hit Ctrl-C to end.");
  const print = (): void => {
    const list = read();
    for (const h of list) {
      hists.delete(h.key);
      const id = JSON.stringify(labels(h));
      const prev = cumulative.get(id)?.slots;
      cumulative.set(id, {
        labels: labels(h),
        slots: prev ? h.slots.map((n, i) => n + (prev[i] ?? 0)) : h.slots,
      });
    }
    if (o.json) {
      for (const h of list)
        io.out(
          toJson({
            ...(o.timestamp ? { time: clockTime() } : {}),
            ...labels(h),
            ...log2HistogramJson(h.slots, unit),
          }),
        );
      return;
    }
    io.out("");
    if (o.timestamp) io.out(clockTime());
    for (const h of list) {
      if (o.disks) io.out(`\ndisk = ${diskName(h.dev)}`);
      if (o.flags) io.out(`\nflags = ${requestFlags(h.cmdFlags)}`);
      for (const line of formatLog2Histogram(h.slots, unit)) io.out(line);
    }
  };

  await printSummaries(
    {
      ...(interval !== undefined ? { intervalSeconds: interval } : {}),
      ...(count !== undefined ? { count } : {}),
      signal,
    },
    print,
  );
  return 0;
}

export const biolatency: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default biolatency;
