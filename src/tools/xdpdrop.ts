/**
 * xdpdrop: the guides' XDP program that drops ICMP, attached to an interface, printing
 * per-second pass/drop counters and detaching on Ctrl-C. With --pcap FILE the same object
 * runs in tsbpf's userspace VM over the capture instead (no root, no interface): the program
 * and the counter map are used through the same load() API on both backends.
 * BPF side: bpf/tools/xdpdrop.bpf.c.
 *
 *     TIME     PASS/s   DROP/s   PASS     DROP
 *     12:00:01 3        1        3        1
 */
import { readFileSync, writeFileSync } from "node:fs";
import { load, type LoadedMap, type LoadedObject } from "../load.js";
import { readCapture, writePcap } from "../vm/pcap/index.js";
import {
  Cleanup,
  PrometheusExporter,
  Table,
  ToolUsageError,
  clockTime,
  defineTool,
  everyInterval,
  parseToolArgs,
  toJson,
  toolObjectPath,
  untilSignal,
  usageText,
  type Tool,
  type ToolIO,
} from "./common/index.js";

const spec = defineTool({
  name: "xdpdrop",
  summary: "Drop ICMP packets with XDP and count what passes and drops",
  options: {
    iface: { kind: "string", short: "i", arg: "IFACE", help: "the interface to attach to (e.g. lo, eth0)" },
    mode: {
      kind: "string",
      arg: "MODE",
      help: "XDP mode (default auto)",
      choices: ["auto", "generic", "native"],
    },
    skb: { kind: "flag", short: "S", help: "generic (skb) mode, same as --mode generic" },
    interval: {
      kind: "int",
      short: "I",
      arg: "SECONDS",
      min: 1,
      help: "print counters at this interval (default 1)",
    },
    duration: {
      kind: "int",
      short: "d",
      arg: "SECONDS",
      min: 1,
      help: "run for this many seconds, then detach",
    },
    pcap: {
      kind: "string",
      arg: "FILE",
      help: "run the program in the userspace VM over a pcap/pcapng file instead",
    },
    out: {
      kind: "string",
      short: "o",
      arg: "FILE",
      help: "with --pcap: write the packets that pass to this pcap file",
    },
  },
  examples: [
    ["xdpdrop -i lo", "drop ICMP on lo until Ctrl-C"],
    ["xdpdrop -i eth0 -S -d 10", "generic mode, 10 seconds"],
    ["xdpdrop --pcap trace.pcap -o passed.pcap", "replay a capture in the VM"],
  ],
  prometheus: true,
});

/** Packets and bytes a verdict got. */
export interface VerdictCount {
  readonly packets: number;
  readonly bytes: number;
}

/** Sums the per-CPU {u64 packets, u64 bytes} of stats[slot] (0 = passed, 1 = dropped). */
export function readVerdict(stats: LoadedMap, slot: number): VerdictCount {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, slot, true);
  let packets = 0;
  let bytes = 0;
  for (const v of stats.lookupPerCpu(key) ?? []) {
    const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
    packets += Number(d.getBigUint64(0, true));
    bytes += Number(d.getBigUint64(8, true));
  }
  return { packets, bytes };
}

interface Row {
  readonly time: string;
  readonly passPerSecond: number;
  readonly dropPerSecond: number;
  readonly pass: number;
  readonly drop: number;
}

async function runPcap(file: string, out: string | undefined, json: boolean, io: ToolIO): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    io.err(`xdpdrop: ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return 2;
  }
  const capture = readCapture(bytes, file);
  using obj = await load(toolObjectPath("xdpdrop"), { backend: "vm" });
  const prog = obj.program("icmp_drop");
  const passed: (typeof capture.packets)[number][] = [];
  const start = process.hrtime.bigint();
  for (const p of capture.packets) {
    const r = prog.run({ dataIn: p.data });
    if (r.retval === 2 /* XDP_PASS */) passed.push(p);
  }
  const ns = Number(process.hrtime.bigint() - start);
  const stats = obj.map("stats");
  const pass = readVerdict(stats, 0);
  const drop = readVerdict(stats, 1);
  if (out) writeFileSync(out, writePcap(passed));
  const perPacket = capture.packets.length ? ns / capture.packets.length : 0;
  if (json)
    io.out(
      toJson({
        packets: capture.packets.length,
        pass: pass.packets,
        drop: drop.packets,
        pass_bytes: pass.bytes,
        drop_bytes: drop.bytes,
        ns_per_packet: Math.round(perPacket),
      }),
    );
  else {
    io.out(`${file}: ${capture.packets.length} packets run in the VM (${Math.round(perPacket)} ns/packet)`);
    io.out(`PASS     ${String(pass.packets).padEnd(8)} ${pass.bytes} bytes`);
    io.out(`DROP     ${String(drop.packets).padEnd(8)} ${drop.bytes} bytes`);
    if (out) io.out(`wrote ${passed.length} passed packets to ${out}`);
  }
  return 0;
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    if (o.pcap !== undefined) {
      if (o.iface !== undefined) throw new ToolUsageError("give either -i IFACE or --pcap FILE, not both");
      return runPcap(o.pcap, o.out, o.json, io);
    }
    if (o.iface === undefined) throw new ToolUsageError("-i IFACE is required (or --pcap FILE)");
    if (o.out !== undefined) throw new ToolUsageError("-o works with --pcap only");
    const mode = o.skb ? "generic" : ((o.mode ?? "auto") as "auto" | "generic" | "native");

    using cleanup = new Cleanup();
    const obj: LoadedObject = cleanup.use(await load(toolObjectPath("xdpdrop"), { backend: "kernel" }));
    const attachment = obj.program("icmp_drop").attach({ interface: o.iface, xdpMode: mode });
    cleanup.use(attachment.link);
    const stats = obj.map("stats");

    let prom: PrometheusExporter | undefined;
    if (o.prometheus) {
      prom = await PrometheusExporter.start(o.prometheus, "xdpdrop");
      const labels = { interface: o.iface };
      prom.counterFrom(
        "tsbpf_xdpdrop_packets_total",
        "packets seen by the XDP program",
        ["interface", "verdict"],
        () => [
          [{ ...labels, verdict: "pass" }, readVerdict(stats, 0).packets],
          [{ ...labels, verdict: "drop" }, readVerdict(stats, 1).packets],
        ],
      );
      prom.counterFrom(
        "tsbpf_xdpdrop_bytes_total",
        "bytes seen by the XDP program",
        ["interface", "verdict"],
        () => [
          [{ ...labels, verdict: "pass" }, readVerdict(stats, 0).bytes],
          [{ ...labels, verdict: "drop" }, readVerdict(stats, 1).bytes],
        ],
      );
      io.err(`xdpdrop: serving Prometheus metrics at http://${prom.address}/metrics`);
    }

    io.err(`Dropping ICMP on ${attachment.description}... Hit Ctrl-C to end.`);
    const table = new Table<Row>(
      io,
      [
        { name: "TIME", width: 8, value: (r) => r.time },
        {
          name: "PASS/s",
          key: "pass_per_s",
          width: 8,
          value: (r) => r.passPerSecond,
          text: (r) => r.passPerSecond.toFixed(0),
        },
        {
          name: "DROP/s",
          key: "drop_per_s",
          width: 8,
          value: (r) => r.dropPerSecond,
          text: (r) => r.dropPerSecond.toFixed(0),
        },
        { name: "PASS", width: 8, value: (r) => r.pass },
        { name: "DROP", value: (r) => r.drop },
      ],
      o.json,
    );
    table.header();
    const intervalS = o.interval ?? 1;
    let last = { pass: 0, drop: 0, at: Date.now() };
    const stop = untilSignal(signal, o.duration !== undefined ? o.duration * 1000 : undefined);
    try {
      await everyInterval({ intervalMs: intervalS * 1000, signal: stop.signal, finalTick: true }, () => {
        const now = Date.now();
        const pass = readVerdict(stats, 0).packets;
        const drop = readVerdict(stats, 1).packets;
        const secs = Math.max(0.001, (now - last.at) / 1000);
        table.row({
          time: clockTime(),
          passPerSecond: (pass - last.pass) / secs,
          dropPerSecond: (drop - last.drop) / secs,
          pass,
          drop,
        });
        last = { pass, drop, at: now };
      });
    } finally {
      stop.close();
      await prom?.close();
    }
    io.err(`Detaching xdpdrop from ${o.iface}: ${last.pass} passed, ${last.drop} dropped`);
    return 0;
  },
};

export default tool;
