/**
 * The loop every ring-buffer tool runs once its programs are attached (execsnoop, opensnoop,
 * exitsnoop, tcpconnect, tcplife, tcpstates): the Prometheus exporter with the tool's metrics
 * and its lost-events counter, the header, "Tracing ..." on stderr in --json mode (stdout is all
 * JSON), events until Ctrl-C or --duration, then the count of events the BPF side dropped.
 */
import { TsbpfError } from "../../errors.js";
import type { KernelCollection } from "../../kernel/index.js";
import { pollUntil, untilSignal, type Pollable } from "./cleanup.js";
import { PrometheusExporter } from "./prometheus.js";
import type { ToolIO } from "./tool.js";

export interface EventLoopOptions<M> {
  /** The tool's name: metric names (tsbpf_NAME_...) and message prefixes. */
  readonly tool: string;
  readonly io: ToolIO;
  readonly signal: AbortSignal;
  /** The ring buffer reader (anything with poll()). */
  readonly reader: Pollable<Uint8Array>;
  readonly table: { header(): void };
  readonly json: boolean;
  /** What is traced ("Tracing exec() syscalls"), said on stderr in --json mode. */
  readonly tracing: string;
  /** --duration: seconds to run (default: until the signal). */
  readonly durationSeconds?: number | undefined;
  /** --prometheus HOST:PORT: serve metrics there; `metrics` declares the tool's own. */
  readonly prometheus?: string | undefined;
  readonly metrics?: (prom: PrometheusExporter) => M;
  /** Events the BPF side dropped on a full ring buffer (a counter it keeps). */
  readonly lost?: () => number;
  /** One event; `metrics` is what the metrics callback returned (undefined without --prometheus). */
  readonly onEvent: (data: Uint8Array, metrics: M | undefined) => void;
}

/** Runs the loop (see the top comment) and resolves when the tool should exit. */
export async function runEventLoop<M>(o: EventLoopOptions<M>): Promise<void> {
  let prom: PrometheusExporter | undefined;
  let metrics: M | undefined;
  if (o.prometheus) {
    prom = await PrometheusExporter.start(o.prometheus, o.tool);
    metrics = o.metrics?.(prom);
    const lost = o.lost;
    if (lost)
      prom.counterFrom(
        `tsbpf_${o.tool}_lost_events_total`,
        "events dropped on a full ring buffer",
        [],
        () => [[{}, lost()]],
      );
    o.io.err(`${o.tool}: serving Prometheus metrics at http://${prom.address}/metrics`);
  }
  o.table.header();
  if (o.json) o.io.err(`${o.tracing}... Hit Ctrl-C to end.`);
  const stop = untilSignal(o.signal, o.durationSeconds !== undefined ? o.durationSeconds * 1000 : undefined);
  try {
    await pollUntil(o.reader, stop.signal, (data) => o.onEvent(data, metrics));
  } finally {
    stop.close();
    await prom?.close();
  }
  const dropped = o.lost?.() ?? 0;
  if (dropped > 0) o.io.err(`${o.tool}: lost ${dropped} events (ring buffer full)`);
}

/** A u64 global variable of the BPF side (e.g. `__u64 lost` in .bss), read on demand. */
export function globalCounter(obj: KernelCollection, name: string): () => number {
  const section = obj.spec.globals.find((g) => g.variables.some((v) => v.name === name));
  const variable = section?.variables.find((v) => v.name === name);
  if (!section || !variable || variable.size !== 8)
    throw new TsbpfError(`${obj.spec.name}: no u64 global variable '${name}'`);
  const map = obj.map(section.section);
  const key = new Uint8Array(4);
  return () => {
    const v = map.lookup(key);
    return v
      ? Number(new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(variable.offset, true))
      : 0;
  };
}
