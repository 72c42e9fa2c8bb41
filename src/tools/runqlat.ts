/**
 * runqlat: scheduler run queue latency as a log2 histogram (BCC / libbpf-tools runqlat):
 * the time from a task's wakeup (or preemption while runnable) until it runs on a CPU.
 */
import { attachTpBtf } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup, printSummaries } from "./common/cleanup.js";
import { clockTime } from "./common/format.js";
import { formatLog2Histogram, log2HistogramJson, readSlots } from "./common/histogram.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { toJson } from "./common/output.js";
import { PrometheusExporter, type Log2Series } from "./common/prometheus.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const MAX_SLOTS = 26;

const spec = defineTool({
  name: "runqlat",
  summary: "Summarize run queue (scheduler) latency as a histogram",
  options: {
    timestamp: { kind: "flag", short: "T", help: "include timestamp on output" },
    milliseconds: { kind: "flag", short: "m", help: "millisecond histogram" },
    pids: { kind: "flag", short: "P", help: "print a histogram per process ID" },
    tids: { kind: "flag", short: "L", help: "print a histogram per thread ID" },
    pid: { kind: "int", short: "p", arg: "PID", help: "trace this PID only", min: 1 },
  },
  positionals: [
    { name: "interval", help: "output interval, in seconds" },
    { name: "count", help: "number of outputs" },
  ],
  prometheus: true,
  examples: [
    ["runqlat", "summarize run queue latency as a histogram"],
    ["runqlat 1 10", "print 1 second summaries, 10 times"],
    ["runqlat -mT 1", "1s summaries, milliseconds, and timestamps"],
    ["runqlat -P", "show each PID separately"],
    ["runqlat -p 185", "trace PID 185 only"],
  ],
});

/** A histogram of the map: key (-1 = all, else pid/tid), comm, slots. */
interface Hist {
  readonly key: number;
  readonly comm: string;
  readonly slots: number[];
}

function readHists(map: { entries(): Iterable<[Uint8Array, Uint8Array]> }): Hist[] {
  const out: Hist[] = [];
  for (const [k, v] of map.entries()) {
    const comm = v.subarray(MAX_SLOTS * 4, MAX_SLOTS * 4 + 16);
    const end = comm.indexOf(0);
    out.push({
      key: new DataView(k.buffer, k.byteOffset).getInt32(0, true),
      comm: Buffer.from(end < 0 ? comm : comm.subarray(0, end)).toString("utf8"),
      slots: readSlots(v, MAX_SLOTS),
    });
  }
  return out.sort((a, b) => a.key - b.key);
}

async function run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number> {
  const o = parseToolArgs(spec, args);
  if (o.pids && o.tids) throw new ToolUsageError("-P and -L are exclusive");
  const unit = o.milliseconds ? "msecs" : "usecs";
  const { interval, count } = o.positionals;

  using cleanup = new Cleanup();
  const coll = cleanup.use(
    loadToolObject("runqlat", {
      constants: {
        targ_per_process: o.pids,
        targ_per_thread: o.tids,
        targ_ms: o.milliseconds,
        targ_tgid: o.pid ?? 0,
      },
    }),
  );
  for (const name of ["sched_wakeup", "sched_wakeup_new", "sched_switch"])
    cleanup.use(attachTpBtf(coll.program(name)));
  const hists = coll.map("hists");

  // Prometheus wants cumulative histograms: what each interval cleared is kept here.
  const cumulative = new Map<string, { labels: Record<string, string | number>; slots: number[] }>();
  const label = (h: Hist): Record<string, string | number> =>
    o.pids ? { pid: h.key, comm: h.comm } : o.tids ? { tid: h.key, comm: h.comm } : {};
  const accumulate = (list: readonly Hist[]): void => {
    for (const h of list) {
      const id = JSON.stringify(label(h));
      const c = cumulative.get(id) ?? { labels: label(h), slots: new Array<number>(MAX_SLOTS).fill(0) };
      h.slots.forEach((n, i) => (c.slots[i]! += n));
      cumulative.set(id, c);
    }
  };
  if (o.prometheus) {
    const prom = await PrometheusExporter.start(o.prometheus, "runqlat");
    cleanup.defer(() => void prom.close());
    prom.log2Histogram(
      "tsbpf_runqlat_seconds",
      "run queue latency",
      o.milliseconds ? 1e-3 : 1e-6,
      function* (): Iterable<Log2Series> {
        const now = new Map(cumulative);
        for (const h of readHists(hists)) {
          const id = JSON.stringify(label(h));
          const c = now.get(id);
          now.set(id, {
            labels: label(h),
            slots: c ? c.slots.map((n, i) => n + h.slots[i]!) : h.slots,
          });
        }
        for (const s of now.values()) yield s;
      },
    );
    io.err(`serving Prometheus metrics at http://${prom.address}/metrics`);
  }

  if (!o.json) io.out("Tracing run queue latency... Hit Ctrl-C to end.");
  const print = (): void => {
    const list = readHists(hists);
    for (const h of list) hists.delete(new Uint8Array(new Int32Array([h.key]).buffer));
    accumulate(list);
    if (o.json) {
      for (const h of list)
        io.out(
          toJson({
            ...(o.timestamp ? { time: clockTime() } : {}),
            ...(o.pids ? { pid: h.key, comm: h.comm } : o.tids ? { tid: h.key, comm: h.comm } : {}),
            ...log2HistogramJson(h.slots, unit),
          }),
        );
      return;
    }
    io.out("");
    if (o.timestamp) io.out(clockTime());
    for (const h of list) {
      if (o.pids) io.out(`\npid = ${h.key} ${h.comm}`);
      else if (o.tids) io.out(`\ntid = ${h.key} ${h.comm}`);
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

export const runqlat: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default runqlat;
