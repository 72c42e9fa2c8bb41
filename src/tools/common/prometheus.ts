/**
 * `--prometheus HOST:PORT`: a tool's counters and histograms served in the Prometheus text
 * format (prom-client) at http://HOST:PORT/metrics, so a fleet running the tools (the DaemonSet
 * in deploy/) is scraped like any other exporter. Values are read from the BPF maps at scrape
 * time (collect callbacks), so nothing is copied between scrapes.
 *
 *     const prom = await PrometheusExporter.start(o.prometheus, "execsnoop");
 *     const execs = prom.counter("tsbpf_execsnoop_execs_total", "exec() calls seen", ["comm"]);
 *     execs.inc({ comm }, 1);
 *     prom.log2Histogram("tsbpf_runqlat_seconds", "run queue latency", 1e-6, () => [{ labels: {}, slots }]);
 *     ...
 *     await prom.close();
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Registry, type Metric } from "prom-client";
import { TsbpfError } from "../../errors.js";

/** Labels of one series. */
export type Labels = Readonly<Record<string, string | number>>;

/** One labelled log2 histogram: slot i counts values with floor(log2(v)) == i. */
export interface Log2Series {
  readonly labels: Labels;
  readonly slots: ArrayLike<number>;
  /** Sum of the observed values in the histogram's own unit, when the program keeps it. */
  readonly sum?: number;
}

/** Parses "HOST:PORT" ("[::1]:9000", ":9000" = every address). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new TsbpfError(`--prometheus: expected HOST:PORT, got '${text}'`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** A Prometheus endpoint for one tool run. */
export class PrometheusExporter {
  private constructor(
    /** The metrics served; tools register theirs through the methods below. */
    readonly registry: Registry,
    private readonly server: Server,
    /** The address actually bound ("127.0.0.1:9435"; port 0 picks a free one). */
    readonly address: string,
  ) {}

  /** Starts serving /metrics at `hostPort`; `tool` becomes the constant label tool="...". */
  static async start(hostPort: string, tool: string): Promise<PrometheusExporter> {
    const { host, port } = parseHostPort(hostPort);
    const registry = new Registry();
    registry.setDefaultLabels({ tool });
    const server = createServer((req, res) => {
      if (req.url !== "/metrics" && req.url !== "/") {
        res.writeHead(404).end("not found: try /metrics\n");
        return;
      }
      registry
        .metrics()
        .then((text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text))
        .catch((e: unknown) => res.writeHead(500).end(`${(e as Error).message}\n`));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new TsbpfError(`--prometheus ${hostPort}: cannot listen: ${e.code ?? e.message}`, { cause: e }),
        ),
      );
      server.listen(port, host, resolve);
    });
    const a = server.address() as AddressInfo;
    const address = a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    return new PrometheusExporter(registry, server, address);
  }

  /** A counter the tool increments as events arrive. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  /** A counter whose values are read at scrape time (e.g. from a BPF map of totals). */
  counterFrom(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Iterable<[Labels, number]>,
  ): Counter {
    return new Counter({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc({ ...labels }, value);
      },
    });
  }

  /** A gauge whose values are read at scrape time. */
  gaugeFrom(
    name: string,
    help: string,
    labelNames: readonly string[],
    read: () => Iterable<[Labels, number]>,
  ): Gauge {
    return new Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set({ ...labels }, value);
      },
    });
  }

  /**
   * A histogram made of log2 slots read at scrape time (the BPF program keeps the counts):
   * bucket `le` = the slot's upper bound times `scale` (1e-6 turns usecs into seconds, the
   * Prometheus base unit), cumulative as Prometheus wants, plus +Inf, _count and _sum.
   */
  log2Histogram(name: string, help: string, scale: number, read: () => Iterable<Log2Series>): void {
    const metric = {
      name,
      help,
      type: "histogram",
      aggregator: "sum",
      get: () => {
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
        for (const series of read()) {
          let cumulative = 0;
          const labels = { ...series.labels };
          for (let i = 0; i < series.slots.length; i++) {
            cumulative += series.slots[i] ?? 0;
            values.push({
              labels: { ...labels, le: (2 ** (i + 1) - 1) * scale },
              value: cumulative,
              metricName: `${name}_bucket`,
            });
          }
          values.push({ labels: { ...labels, le: "+Inf" }, value: cumulative, metricName: `${name}_bucket` });
          if (series.sum !== undefined)
            values.push({ labels, value: series.sum * scale, metricName: `${name}_sum` });
          values.push({ labels, value: cumulative, metricName: `${name}_count` });
        }
        return { name, help, type: "histogram", aggregator: "sum", values };
      },
      reset: () => {},
    };
    this.registry.registerMetric(metric as unknown as Metric);
  }

  /** Stops serving. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
