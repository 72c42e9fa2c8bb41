import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  Cleanup,
  PrometheusExporter,
  Table,
  ToolUsageError,
  defineTool,
  everyInterval,
  formatLinearHistogram,
  formatLog2Histogram,
  ipAddress,
  jsonKey,
  log2HistogramJson,
  log2Slot,
  parseHostPort,
  parseToolArgs,
  runEventLoop,
  usageText,
} from "../../src/tools/common/index.js";

// BCC's tools/runqlat_example.txt (slot i = floor(log2 v)).
const RUNQLAT_EXAMPLE = `     usecs               : count     distribution
         0 -> 1          : 233      |***********                             |
         2 -> 3          : 742      |************************************    |
         4 -> 7          : 203      |**********                              |
         8 -> 15         : 173      |********                                |
        16 -> 31         : 24       |*                                       |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 30       |*                                       |
       128 -> 255        : 6        |                                        |
       256 -> 511        : 3        |                                        |
       512 -> 1023       : 5        |                                        |
      1024 -> 2047       : 27       |*                                       |
      2048 -> 4095       : 30       |*                                       |
      4096 -> 8191       : 20       |                                        |
      8192 -> 16383      : 29       |*                                       |
     16384 -> 32767      : 809      |****************************************|
     32768 -> 65535      : 64       |***                                     |`;

describe("histogram", () => {
  const slots = [233, 742, 203, 173, 24, 0, 30, 6, 3, 5, 27, 30, 20, 29, 809, 64, 0, 0];
  test("log2 histogram matches BCC's runqlat example byte for byte", () => {
    assert.equal(formatLog2Histogram(slots, "usecs").join("\n"), RUNQLAT_EXAMPLE);
  });
  test("empty histogram prints nothing, strip leading zeros, JSON totals", () => {
    assert.deepEqual(formatLog2Histogram([0, 0, 0], "usecs"), []);
    const lines = formatLog2Histogram([0, 0, 5, 1], "msecs", { stripLeadingZero: true });
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^ +4 -> 7 +: 5 +\|\*{40}\|$/);
    const j = log2HistogramJson([1, 2, 3], "usecs");
    assert.equal(j.total, 6);
    assert.deepEqual(j.buckets[2], { low: 4, high: 7, count: 3 });
  });
  test("wide layout past slot 32", () => {
    const wide = new Array<number>(40).fill(0);
    wide[35] = 1;
    const lines = formatLog2Histogram(wide, "nsecs");
    assert.equal(lines[0], `               ${"nsecs".padEnd(29)} : count     distribution`);
    assert.equal(
      lines[36],
      `${"34359738368".padStart(20)} -> ${"68719476735".padEnd(20)} : 1        |${"*".repeat(20)}|`,
    );
  });
  test("linear histogram and log2 slots", () => {
    assert.deepEqual(formatLinearHistogram([0, 2, 1], "ms"), [
      "     ms            : count     distribution",
      `        0          : 0        |${" ".repeat(40)}|`,
      `        1          : 2        |${"*".repeat(40)}|`,
      `        2          : 1        |${"*".repeat(20).padEnd(40)}|`,
    ]);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 1023, 1024].map((v) => log2Slot(v)),
      [0, 0, 1, 1, 2, 9, 10],
    );
    assert.equal(log2Slot(1n << 40n), 40);
  });
});

describe("options", () => {
  const spec = defineTool({
    name: "demo",
    summary: "Demo tool",
    options: {
      pid: { kind: "int", short: "p", arg: "PID", help: "this PID only" },
      failed: { kind: "flag", short: "x", help: "failed only" },
      name: { kind: "string", short: "n", arg: "NAME", help: "comm filter" },
      mode: { kind: "string", arg: "MODE", help: "mode", choices: ["a", "b"] },
      extraArg: { kind: "list", arg: "X", help: "repeatable" },
    },
    positionals: [{ name: "interval", help: "seconds" }],
    examples: [["demo -p 1", "pid 1 only"]],
    prometheus: true,
  });
  test("typed values, combined short flags, positionals, kebab-case longs", () => {
    const o = parseToolArgs(spec, ["-xp", "42", "--json", "--extra-arg", "a", "--extra-arg=b", "5"]);
    assert.equal(o.pid, 42);
    assert.equal(o.failed, true);
    assert.equal(o.name, undefined);
    assert.equal(o.json, true);
    assert.deepEqual(o.extraArg, ["a", "b"]);
    assert.equal(o.positionals.interval, 5);
    assert.equal(o.prometheus, undefined);
    assert.equal(parseToolArgs(spec, ["--prometheus", "127.0.0.1:0"]).prometheus, "127.0.0.1:0");
  });
  test("bad usage is one ToolUsageError line", () => {
    for (const args of [["-p", "x1"], ["--nope"], ["-p"], ["1", "2"], ["--mode", "c"], ["0"]])
      assert.throws(
        () => parseToolArgs(spec, args),
        (e: unknown) => e instanceof ToolUsageError && !e.message.includes("\n"),
      );
  });
  test("usage text lists every option and the examples", () => {
    const text = usageText(spec);
    assert.match(
      text.split("\n")[0]!,
      /^demo \[-h\] \[-p PID\] \[-x\] \[-n NAME\] \[--mode MODE\] \[--extra-arg X\] \[--json\] \[--prometheus HOST:PORT\] \[interval\]$/,
    );
    assert.match(text, /-p, --pid=PID +this PID only/);
    assert.match(text, /tsbpf demo -p 1 +# pid 1 only/);
  });
});

describe("output", () => {
  interface Row {
    comm: string;
    pid: number;
    args: string[];
  }
  const columns = [
    { name: "PCOMM", width: 16, value: (r: Row) => r.comm },
    { name: "PID", width: 7, right: true, value: (r: Row) => r.pid },
    { name: "TIME(s)", width: 8, value: () => 1.5, text: () => "1.500" },
    { name: "ARGS", value: (r: Row) => r.args },
  ];
  test("text columns and JSON lines", () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: () => {} };
    const t = new Table<Row>(io, columns, false);
    t.header();
    t.row({ comm: "true", pid: 12, args: ["/bin/true", "x"] });
    assert.deepEqual(lines, [
      "PCOMM                PID TIME(s)  ARGS",
      "true                  12 1.500    /bin/true x",
    ]);
    const j = new Table<Row>(io, columns, true);
    lines.length = 0;
    j.header();
    j.row({ comm: "true", pid: 12, args: ["/bin/true"] });
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      [{ pcomm: "true", pid: 12, time_s: 1.5, args: ["/bin/true"] }],
    );
    assert.equal(jsonKey("LAT(ms)"), "lat_ms");
  });
  test("addresses", () => {
    assert.equal(ipAddress(Uint8Array.of(127, 0, 0, 1)), "127.0.0.1");
    const v6 = new Uint8Array(16);
    v6[15] = 1;
    assert.equal(ipAddress(v6), "::1");
    const mapped = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3);
    assert.equal(ipAddress(mapped), "::ffff:10.1.2.3");
    const doc = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2);
    assert.equal(ipAddress(doc), "2001:db8::1:0:0:2");
  });
});

describe("cleanup", () => {
  test("reverse order, errors after everything ran", () => {
    const order: string[] = [];
    const c = new Cleanup();
    c.defer(() => order.push("a"));
    c.defer(() => {
      order.push("b");
      throw new Error("b failed");
    });
    c.use({ close: () => order.push("c") });
    assert.throws(() => c.close(), /b failed/);
    assert.deepEqual(order, ["c", "b", "a"]);
    c.close();
    assert.equal(order.length, 3);
  });
  test("intervals stop at count or abort with a final tick", async () => {
    const ticks: [number, boolean][] = [];
    await everyInterval({ intervalMs: 5, count: 3, signal: new AbortController().signal }, (i, last) => {
      ticks.push([i, last]);
    });
    assert.deepEqual(ticks, [
      [1, false],
      [2, false],
      [3, true],
    ]);
    const ac = new AbortController();
    ticks.length = 0;
    setTimeout(() => ac.abort(), 30);
    await everyInterval({ intervalMs: 1000, signal: ac.signal, finalTick: true }, (i, last) => {
      ticks.push([i, last]);
    });
    assert.deepEqual(ticks, [[1, true]]);
  });
});

describe("prometheus", () => {
  test("host:port parsing", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:9100"), { host: "127.0.0.1", port: 9100 });
    assert.deepEqual(parseHostPort("[::1]:80"), { host: "::1", port: 80 });
    assert.deepEqual(parseHostPort(":80"), { host: "0.0.0.0", port: 80 });
    assert.throws(() => parseHostPort("nope"), /HOST:PORT/);
  });
  test("serves counters and log2 histograms in the text format", async () => {
    const prom = await PrometheusExporter.start("127.0.0.1:0", "demo");
    try {
      const c = prom.counter("tsbpf_demo_events_total", "events", ["comm"]);
      c.inc({ comm: "sh" }, 3);
      prom.counterFrom("tsbpf_demo_read_total", "read at scrape", [], () => [[{}, 7]]);
      prom.log2Histogram("tsbpf_demo_latency_seconds", "latency", 1e-6, () => [
        { labels: { cpu: 0 }, slots: [1, 0, 2], sum: 11 },
      ]);
      const text = await (await fetch(`http://${prom.address}/metrics`)).text();
      assert.match(text, /^tsbpf_demo_events_total\{comm="sh",tool="demo"\} 3$/m);
      assert.match(text, /^tsbpf_demo_read_total\{tool="demo"\} 7$/m);
      assert.match(text, /^# TYPE tsbpf_demo_latency_seconds histogram$/m);
      assert.match(text, /^tsbpf_demo_latency_seconds_bucket\{cpu="0",le="0.000001",tool="demo"\} 1$/m);
      assert.match(text, /^tsbpf_demo_latency_seconds_bucket\{cpu="0",le="0.000007",tool="demo"\} 3$/m);
      assert.match(text, /^tsbpf_demo_latency_seconds_bucket\{cpu="0",le="\+Inf",tool="demo"\} 3$/m);
      assert.match(text, /^tsbpf_demo_latency_seconds_count\{cpu="0",tool="demo"\} 3$/m);
      assert.match(text, /^tsbpf_demo_latency_seconds_sum\{cpu="0",tool="demo"\} 0.000011$/m);
      assert.equal((await fetch(`http://${prom.address}/nope`)).status, 404);
    } finally {
      await prom.close();
    }
  });
});

describe("runEventLoop", () => {
  /** A reader handing out queued records, one batch per poll. */
  const fakeReader = (batches: Uint8Array[][]) => ({
    async poll(_timeoutMs: number, callback: (r: Uint8Array) => void): Promise<number> {
      const batch = batches.shift() ?? [];
      for (const r of batch) callback(r);
      await new Promise((r) => setTimeout(r, 5));
      return batch.length;
    },
  });

  test("header, events until the duration ends, the lost count, the Prometheus metrics", async () => {
    const err: string[] = [];
    const seen: number[] = [];
    let headers = 0;
    let lost = 0;
    let scraped = "";
    await runEventLoop({
      tool: "faketool",
      io: { out: () => {}, err: (t) => err.push(t) },
      signal: new AbortController().signal,
      reader: fakeReader([[Uint8Array.of(1), Uint8Array.of(2)], [], [Uint8Array.of(3)]]),
      table: { header: () => headers++ },
      json: true,
      tracing: "Tracing fakes",
      durationSeconds: 1,
      prometheus: "127.0.0.1:0",
      metrics: (prom) => prom.counter("tsbpf_faketool_events_total", "events"),
      lost: () => lost,
      onEvent: (data, events) => {
        seen.push(data[0]!);
        events?.inc();
        lost = 2;
        if (data[0] === 3) {
          const address = /metrics at http:\/\/(\S+)\/metrics/.exec(err.join("\n"))![1]!;
          void fetch(`http://${address}/metrics`).then(async (r) => (scraped = await r.text()));
        }
      },
    });
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(headers, 1);
    assert.match(err[0]!, /^faketool: serving Prometheus metrics at http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.equal(err[1], "Tracing fakes... Hit Ctrl-C to end.");
    assert.equal(err.at(-1), "faketool: lost 2 events (ring buffer full)");
    assert.match(scraped, /^tsbpf_faketool_events_total\{tool="faketool"\} 3$/m);
    assert.match(scraped, /^tsbpf_faketool_lost_events_total\{tool="faketool"\} 2$/m);
  });

  test("stops on the signal; no 'Tracing' line without --json, no lost line when nothing was lost", async () => {
    const err: string[] = [];
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    await runEventLoop({
      tool: "faketool",
      io: { out: () => {}, err: (t) => err.push(t) },
      signal: stop.signal,
      reader: fakeReader([]),
      table: { header: () => {} },
      json: false,
      tracing: "Tracing fakes",
      lost: () => 0,
      onEvent: () => assert.fail("no events"),
    });
    assert.deepEqual(err, []);
  });
});
