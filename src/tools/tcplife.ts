/**
 * tcplife: one line per TCP session when it closes, with its owner, ports, bytes and duration,
 * as BCC's and libbpf-tools' tcplife. BPF side: bpf/tools/tcplife.bpf.c (sock:inet_sock_set_state).
 *
 *     PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS
 *     22597   recordProg       127.0.0.1       46644 127.0.0.1       28527 0.00   0.00   0.23
 */
import { links, ringbuf } from "../kernel/index.js";
import {
  AF_INET,
  AF_INET6,
  Cleanup,
  DURATION_OPTION,
  Table,
  clockTime,
  cString,
  defineTool,
  eventAddress,
  globalCounter,
  loadToolObject,
  parseToolArgs,
  runEventLoop,
  usageText,
  type Tool,
} from "./common/index.js";

const spec = defineTool({
  name: "tcplife",
  summary: "Trace the lifespan of TCP sessions and summarize",
  options: {
    pid: { kind: "int", short: "p", arg: "PID", help: "process ID to trace" },
    ipv4: { kind: "flag", short: "4", help: "trace IPv4 only" },
    ipv6: { kind: "flag", short: "6", help: "trace IPv6 only" },
    wide: { kind: "flag", short: "w", help: "wide column output (fits IPv6 addresses)" },
    time: { kind: "flag", short: "T", help: "include time column on output (HH:MM:SS)" },
    timestamp: { kind: "flag", short: "t", help: "include timestamp on output (seconds)" },
    localport: { kind: "int", short: "L", arg: "LPORT", help: "trace this local port only" },
    remoteport: { kind: "int", short: "D", arg: "DPORT", help: "trace this remote port only" },
    duration: DURATION_OPTION,
  },
  examples: [
    ["tcplife", "trace all TCP connect()s"],
    ["tcplife -t", "include time column (HH:MM:SS)"],
    ["tcplife -w", "wider columns (fit IPv6)"],
    ["tcplife -p 181", "only trace PID 181"],
    ["tcplife -L 80", "only trace local port 80"],
    ["tcplife -D 80", "only trace remote port 80"],
  ],
  prometheus: true,
});

/** One finished session. */
export interface SessionEvent {
  readonly time: string;
  readonly timestamp: number;
  readonly pid: number;
  readonly comm: string;
  readonly laddr: string;
  readonly lport: number;
  readonly raddr: string;
  readonly rport: number;
  readonly txBytes: number;
  readonly rxBytes: number;
  readonly ms: number;
}

/** Decodes struct event of tcplife.bpf.c. */
export function decodeSessionEvent(data: Uint8Array, startUs: bigint): SessionEvent {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const family = v.getUint16(72, true);
  return {
    time: clockTime(),
    timestamp: Number(v.getBigUint64(32, true) - startUs) / 1e6,
    ms: Number(v.getBigUint64(40, true)) / 1000,
    rxBytes: Number(v.getBigUint64(48, true)),
    txBytes: Number(v.getBigUint64(56, true)),
    pid: v.getUint32(64, true),
    lport: v.getUint16(68, true),
    rport: v.getUint16(70, true),
    comm: cString(data, 74, 16),
    laddr: eventAddress(data, 0, family),
    raddr: eventAddress(data, 16, family),
  };
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    const w = o.wide ? 39 : 15;
    const kb = (b: number): string => (b / 1024).toFixed(2);
    const table = new Table<SessionEvent>(
      io,
      [
        o.time && { name: "TIME", width: 8, value: (e) => e.time },
        o.timestamp && {
          name: "TIME(s)",
          width: 9,
          value: (e) => e.timestamp,
          text: (e) => e.timestamp.toFixed(6),
        },
        { name: "PID", width: 7, value: (e) => e.pid },
        { name: "COMM", width: 16, value: (e) => e.comm },
        { name: "LADDR", width: w, value: (e) => e.laddr },
        { name: "LPORT", width: 5, value: (e) => e.lport },
        { name: "RADDR", width: w, value: (e) => e.raddr },
        { name: "RPORT", width: 5, value: (e) => e.rport },
        // JSON gets exact byte counts; the text columns are KB as BCC prints them.
        {
          name: "TX_KB",
          key: o.json ? "tx_bytes" : "tx_kb",
          width: 6,
          value: (e) => e.txBytes,
          text: (e) => kb(e.txBytes),
        },
        {
          name: "RX_KB",
          key: o.json ? "rx_bytes" : "rx_kb",
          width: 6,
          value: (e) => e.rxBytes,
          text: (e) => kb(e.rxBytes),
        },
        { name: "MS", value: (e) => e.ms, text: (e) => e.ms.toFixed(2) },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("tcplife", {
        constants: {
          target_pid: o.pid,
          target_family: o.ipv4 ? AF_INET : o.ipv6 ? AF_INET6 : 0,
          target_sport: o.localport,
          target_dport: o.remoteport,
        },
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("inet_sock_set_state"), {
        group: "sock",
        name: "inet_sock_set_state",
      }),
    );
    let startUs: bigint | undefined;
    await runEventLoop({
      tool: "tcplife",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: "Tracing TCP sessions",
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) => ({
        sessions: prom.counter("tsbpf_tcplife_sessions_total", "closed TCP sessions", ["comm"]),
        bytes: prom.counter("tsbpf_tcplife_bytes_total", "bytes of closed TCP sessions", [
          "comm",
          "direction",
        ]),
      }),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, m) => {
        startUs ??= new DataView(data.buffer, data.byteOffset).getBigUint64(32, true);
        const e = decodeSessionEvent(data, startUs);
        m?.sessions.inc({ comm: e.comm });
        m?.bytes.inc({ comm: e.comm, direction: "tx" }, e.txBytes);
        m?.bytes.inc({ comm: e.comm, direction: "rx" }, e.rxBytes);
        table.row(e);
      },
    });
    return 0;
  },
};

export default tool;
