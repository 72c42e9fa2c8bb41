/**
 * tcpconnect: active TCP connections, the guides' connection tracer (PID COMM SADDR DADDR
 * DPORT) in BCC's columns, with the guides' container extension: --containers adds the
 * container id (UTS nodename of processes in a non-root PID namespace), --containers-only
 * shows only those. BPF side: bpf/tools/tcpconnect.bpf.c. The hook is chosen at start:
 * kprobes on tcp_v4_connect/tcp_v6_connect as BCC (when the kernel has kprobes), else the
 * sock:inet_sock_set_state tracepoint (CLOSE -> SYN_SENT); --hook forces one.
 *
 *     PID    COMM         IP SADDR            DADDR            DPORT
 *     1479   curl         4  127.0.0.1        127.0.0.1        8080
 */
import { links, ringbuf, type KernelCollection } from "../kernel/index.js";
import {
  AF_INET,
  AF_INET6,
  Cleanup,
  DURATION_OPTION,
  Table,
  containerId,
  cString,
  decodeContainer,
  defineTool,
  eventAddress,
  globalCounter,
  ipVersion,
  loadToolObject,
  parseToolArgs,
  runEventLoop,
  usageText,
  type ContainerInfo,
  type Tool,
  type ToolIO,
} from "./common/index.js";

const spec = defineTool({
  name: "tcpconnect",
  summary: "Trace TCP active connections (connect())",
  options: {
    timestamp: { kind: "flag", short: "t", help: "include timestamp on output" },
    pid: { kind: "int", short: "p", arg: "PID", help: "trace this PID only" },
    printUid: { kind: "flag", short: "U", help: "include UID on output" },
    uid: { kind: "int", short: "u", arg: "UID", help: "trace this UID only" },
    ipv4: { kind: "flag", short: "4", help: "trace IPv4 family only" },
    ipv6: { kind: "flag", short: "6", help: "trace IPv6 family only" },
    port: {
      kind: "list",
      short: "P",
      arg: "PORT",
      help: "only trace these destination ports (repeatable, or comma-separated)",
    },
    containers: {
      kind: "flag",
      help: "show the container id (UTS nodename) of processes in a non-root PID namespace",
    },
    containersOnly: { kind: "flag", help: "only trace processes in containers (non-root PID namespace)" },
    hook: {
      kind: "string",
      arg: "HOOK",
      help: "where to trace: auto (kprobe, else tracepoint)",
      choices: ["auto", "kprobe", "tracepoint"],
    },
    duration: DURATION_OPTION,
  },
  examples: [
    ["tcpconnect", "trace all TCP connect()s"],
    ["tcpconnect -t", "include timestamps"],
    ["tcpconnect -p 181", "only trace PID 181"],
    ["tcpconnect -P 80,81", "only trace ports 80 and 81"],
    ["tcpconnect -U", "include UID"],
    ["tcpconnect --containers", "include the container id"],
    ["tcpconnect --containers-only", "only connections made from containers"],
  ],
  prometheus: true,
});

/** One connect(). */
export interface ConnectEvent {
  readonly timestamp: number;
  readonly uid: number;
  readonly pid: number;
  readonly comm: string;
  readonly ip: number;
  readonly saddr: string;
  readonly daddr: string;
  readonly dport: number;
  readonly container: ContainerInfo;
}

/** Decodes struct event of tcpconnect.bpf.c. */
export function decodeConnectEvent(data: Uint8Array, startUs: bigint): ConnectEvent {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const family = v.getUint16(48, true);
  return {
    timestamp: Number(v.getBigUint64(32, true) - startUs) / 1e6,
    pid: v.getUint32(40, true),
    uid: v.getUint32(44, true),
    ip: ipVersion(family),
    dport: v.getUint16(50, true),
    comm: cString(data, 52, 16),
    container: decodeContainer(v, data, 68),
    saddr: eventAddress(data, 0, family),
    daddr: eventAddress(data, 16, family),
  };
}

/** Attaches the kprobe pair (BCC's hook); throws when the kernel cannot. */
function attachKprobes(obj: KernelCollection, cleanup: Cleanup): void {
  const attached = new Cleanup();
  try {
    for (const fn of ["tcp_v4_connect", "tcp_v6_connect"]) {
      attached.use(links.attachKprobe(obj.program(fn), { symbol: fn }));
      attached.use(links.attachKretprobe(obj.program(`${fn}_ret`), { symbol: fn }));
    }
  } catch (e) {
    attached.close();
    throw e;
  }
  cleanup.use(attached);
}

/** Attaches by --hook: kprobes first in auto mode, the tracepoint when they fail (one line says so). */
function attach(obj: KernelCollection, cleanup: Cleanup, hook: string, io: ToolIO): string {
  if (hook !== "tracepoint") {
    try {
      attachKprobes(obj, cleanup);
      return "kprobe";
    } catch (e) {
      if (hook === "kprobe") throw e;
      io.err(`tcpconnect: ${(e as Error).message}; using tracepoint sock:inet_sock_set_state instead`);
    }
  }
  cleanup.use(
    links.attachTracepoint(obj.program("tcp_set_state"), { group: "sock", name: "inet_sock_set_state" }),
  );
  return "tracepoint";
}

const tool: Tool = {
  name: spec.name,
  summary: spec.summary,
  usage: usageText(spec),
  async run(argv, io, signal) {
    const o = parseToolArgs(spec, argv);
    const ports = new Set(o.port.flatMap((p) => p.split(",")).map(Number));
    if ([...ports].some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
      io.err(`tcpconnect: -P: bad port in '${o.port.join(",")}'`);
      return 2;
    }
    const showContainer = o.containers || o.containersOnly;
    const table = new Table<ConnectEvent>(
      io,
      [
        o.timestamp && {
          name: "TIME(s)",
          width: 9,
          value: (e) => e.timestamp,
          text: (e) => e.timestamp.toFixed(3),
        },
        o.printUid && { name: "UID", width: 6, value: (e) => e.uid },
        { name: "PID", width: 6, value: (e) => e.pid },
        { name: "COMM", width: 12, value: (e) => e.comm },
        { name: "IP", width: 2, value: (e) => e.ip },
        { name: "SADDR", width: 16, value: (e) => e.saddr },
        { name: "DADDR", width: 16, value: (e) => e.daddr },
        { name: "DPORT", width: 6, value: (e) => e.dport },
        showContainer && {
          name: "CONTAINER",
          value: (e) => containerId(e.container) ?? (o.json ? null : "-"),
        },
      ],
      o.json,
    );

    using cleanup = new Cleanup();
    const obj = cleanup.use(
      loadToolObject("tcpconnect", {
        constants: {
          filter_pid: o.pid,
          filter_uid: o.uid,
          filter_family: o.ipv4 ? AF_INET : o.ipv6 ? AF_INET6 : 0,
          containers_only: o.containersOnly,
        },
      }),
    );
    const hook = attach(obj, cleanup, o.hook ?? "auto", io);
    let startUs: bigint | undefined;
    await runEventLoop({
      tool: "tcpconnect",
      io,
      signal,
      reader: cleanup.use(ringbuf.RingBufferReader.open(obj.map("events"))),
      table,
      json: o.json,
      tracing: `Tracing connect() (${hook})`,
      durationSeconds: o.duration,
      prometheus: o.prometheus,
      metrics: (prom) =>
        prom.counter("tsbpf_tcpconnect_connects_total", "active TCP connections", [
          "comm",
          "dport",
          "container",
        ]),
      lost: globalCounter(obj, "lost"),
      onEvent: (data, connects) => {
        startUs ??= new DataView(data.buffer, data.byteOffset).getBigUint64(32, true);
        const e = decodeConnectEvent(data, startUs);
        if (ports.size && !ports.has(e.dport)) return;
        connects?.inc({ comm: e.comm, dport: e.dport, container: containerId(e.container) ?? "" });
        table.row(e);
      },
    });
    return 0;
  },
};

export default tool;
