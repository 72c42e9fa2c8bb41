/**
 * tcpstates: TCP state changes with the time spent in the old state, as libbpf-tools'
 * tcpstates. BPF side: bpf/tools/tcpstates.bpf.c (sock:inet_sock_set_state, ring buffer).
 *
 *     SKADDR           PID     COMM             IP LADDR                      LPORT RADDR                      RPORT OLDSTATE    -> NEWSTATE    MS
 *     ffff9fd7e8192000 22384   curl             4  100.66.100.185             0     52.33.159.26               80    CLOSE       -> SYN_SENT    0.000
 */
import { links, ringbuf } from "../kernel/index.js";
import {
  AF_INET,
  AF_INET6,
  Cleanup,
  DURATION_OPTION,
  Table,
  cString,
  defineTool,
  eventAddress,
  globalCounter,
  ipVersion,
  loadToolObject,
  parseToolArgs,
  runEventLoop,
  tcpStateName,
  usageText,
  type Tool,
} from "./common/index.js";

const spec = defineTool({
  name: "tcpstates",
  summary: "Trace TCP session state changes and durations",
  options: {
    ipv4: { kind: "flag", short: "4", help: "trace IPv4 family only" },
    ipv6: { kind: "flag", short: "6", help: "trace IPv6 family only" },
    timestamp: { kind: "flag", short: "T", help: "include timestamp on output" },
    wide: { kind: "flag", short: "w", help: "wide column output (fits IPv6 addresses)" },
    localport: { kind: "int", short: "L", arg: "LPORT", help: "trace this local port only" },
    remoteport: { kind: "int", short: "D", arg: "DPORT", help: "trace this remote port only" },
    duration: DURATION_OPTION,
  },
  examples: [
    ["tcpstates", "trace all TCP state changes"],
    ["tcpstates -T", "include timestamps"],
    ["tcpstates -L 80", "only trace local port 80"],
    ["tcpstates -D 80", "only trace remote port 80"],
  ],
  prometheus: true,
});

/** One state change. */
export interface StateEvent {
  readonly timestamp: number;
  readonly skaddr: bigint;
  readonly pid: number;
  readonly comm: string;
  readonly ip: number;
  readonly laddr: string;
  readonly lport: number;
  readonly raddr: string;
  readonly rport: number;
  readonly oldstate: string;
  readonly newstate: string;
  readonly ms: number;
}

/** Decodes struct event of tcpstates.bpf.c. */
export function decodeStateEvent(data: Uint8Array, startUs: bigint): StateEvent {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const family = v.getUint16(68, true);
  return {
    skaddr: v.getBigUint64(32, true),
    timestamp: Number(v.getBigUint64(40, true) - startUs) / 1e6,
    ms: Number(v.getBigUint64(48, true)) / 1000,
    pid: v.getUint32(56, true),
    oldstate: tcpStateName(v.getInt32(60, true)),
    newstate: tcpStateName(v.getInt32(64, true)),
    ip: ipVersion(family),
    lport: v.getUint16(70, true),
    rport: v.getUint16(72, true),
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
    const w = o.wide ? 39 : 26;
    const table = new Table<StateEvent>(
      io,
      [
        o.timestamp && {
          name: "TIME(s)",
          width: 8,
          value: (e) => e.timestamp,
          text: (e) => e.timestamp.toFixed(6),
        },
        { name: "SKADDR", width: 16, value: (e) => e.skaddr.toString(16) },
        { name: "PID", width: 7, value: (e) => e.pid },
        { name: "COMM", width: 16, value: (e) => e.comm },
        { name: "IP", width: 2, value: (e) => e.ip },
        { name: "LADDR", width: w, value: (e) => e.laddr },
        { name: "LPORT", width: 5, value: (e) => e.lport },
        { name: "RADDR", width: w, value: (e) => e.raddr },
        { name: "RPORT", width: 5, value: (e) => e.rport },
        {
          name: "OLDSTATE    ->",
          key: "oldstate",
          width: 14,
          value: (e) => e.oldstate,
          text: (e) => `${e.oldstate.padEnd(11)} ->`,
        },
        { name: "NEWSTATE", width: 11, value: (e) => e.newstate },
        { name: "MS", value: (e) => e.ms, text: (e) => e.ms.toFixed(3) },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("tcpstates", {
        constants: {
          target_family: o.ipv4 ? AF_INET : o.ipv6 ? AF_INET6 : 0,
          filter_sport: o.localport,
          filter_dport: o.remoteport,
        },
      }),
    );
    cleanup.use(
      links.attachTracepoint(obj.program("handle_set_state"), { group: "sock", name: "inet_sock_set_state" }),
    );
    let startUs: bigint | undefined;
    await runEventLoop({
      tool: "tcpstates",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: "Tracing TCP state changes",
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) =>
        prom.counter("tsbpf_tcpstates_transitions_total", "TCP state changes", ["oldstate", "newstate"]),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, changes) => {
        startUs ??= new DataView(data.buffer, data.byteOffset).getBigUint64(40, true);
        const e = decodeStateEvent(data, startUs);
        changes?.inc({ oldstate: e.oldstate, newstate: e.newstate });
        table.row(e);
      },
    });
    return 0;
  },
};

export default tool;
