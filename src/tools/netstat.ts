/**
 * netstat: the TCP sockets of the current network namespace read by a TCP iterator (iter/tcp,
 * 5.9) rather than from /proc/net/tcp{,6}: `netstat -tan` columns, -l listening only, -e user
 * and inode.
 */
import { attachIter } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup } from "./common/cleanup.js";
import { ipAddress } from "./common/format.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { Table } from "./common/output.js";
import { TCP_STATES } from "./common/tcp.js";
import type { Tool, ToolIO } from "./common/tool.js";

/** One TCP socket (struct sock_rec of netstat.bpf.c). */
export interface TcpSocket {
  readonly family: 4 | 6;
  readonly state: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly recvQ: number;
  readonly sendQ: number;
  readonly uid: number;
  readonly inode: number;
}

const REC_SIZE = 64;

/** Decodes the iterator's records. */
export function decodeSockets(bytes: Uint8Array): TcpSocket[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TcpSocket[] = [];
  for (let at = 0; at + REC_SIZE <= bytes.byteLength; at += REC_SIZE) {
    const family = v.getUint16(at, true) === 10 ? 6 : 4;
    const addr = (off: number): string =>
      ipAddress(family === 6 ? bytes.slice(at + off, at + off + 16) : bytes.slice(at + off, at + off + 4));
    const state = v.getUint8(at + 2);
    out.push({
      family,
      state: TCP_STATES[state] ?? String(state),
      localPort: v.getUint16(at + 4, true),
      remotePort: v.getUint16(at + 6, true),
      localAddress: addr(8),
      remoteAddress: addr(24),
      uid: v.getUint32(at + 40, true),
      recvQ: v.getUint32(at + 44, true),
      sendQ: v.getUint32(at + 48, true),
      inode: Number(v.getBigUint64(at + 56, true)),
    });
  }
  return out;
}

/** Runs the TCP iterator once. */
export function readTcpSockets(): TcpSocket[] {
  using cleanup = new Cleanup();
  const coll = cleanup.use(loadToolObject("netstat"));
  const link = cleanup.use(attachIter(coll.program("netstat_iter")));
  return decodeSockets(link.readAll());
}

const spec = defineTool({
  name: "netstat",
  summary: "List TCP sockets through a BPF TCP iterator (like netstat -tan)",
  options: {
    listening: { kind: "flag", short: "l", help: "only listening sockets" },
    all: { kind: "flag", short: "a", help: "listening and non-listening sockets (the default)" },
    extend: { kind: "flag", short: "e", help: "also the user id and the socket inode" },
    ipv4: { kind: "flag", short: "4", help: "IPv4 only" },
    ipv6: { kind: "flag", short: "6", help: "IPv6 only" },
  },
  examples: [
    ["netstat", "every TCP socket of this network namespace"],
    ["netstat -l -e", "listening sockets with user and inode"],
  ],
});

const endpoint = (s: TcpSocket, local: boolean): string => {
  const a = local ? s.localAddress : s.remoteAddress;
  const p = local ? s.localPort : s.remotePort;
  return `${a}:${p === 0 && !local ? "*" : p}`;
};

async function run(args: string[], io: ToolIO, _signal: AbortSignal): Promise<number> {
  await Promise.resolve();
  const o = parseToolArgs(spec, args);
  let socks = readTcpSockets();
  if (o.listening) socks = socks.filter((s) => s.state === "LISTEN");
  if (o.ipv4 && !o.ipv6) socks = socks.filter((s) => s.family === 4);
  if (o.ipv6 && !o.ipv4) socks = socks.filter((s) => s.family === 6);
  const table = new Table<TcpSocket>(
    io,
    [
      { name: "Proto", width: 5, value: (s) => (s.family === 6 ? "tcp6" : "tcp") },
      { name: "Recv-Q", width: 6, right: true, value: (s) => s.recvQ },
      { name: "Send-Q", width: 6, right: true, value: (s) => s.sendQ },
      { name: "Local Address", width: 23, value: (s) => endpoint(s, true) },
      { name: "Foreign Address", width: 23, value: (s) => endpoint(s, false) },
      { name: "State", width: 11, value: (s) => s.state },
      o.extend && { name: "User", width: 6, right: true, value: (s) => s.uid },
      o.extend && { name: "Inode", value: (s) => s.inode },
    ],
    o.json,
  );
  if (!o.json) io.out("Active Internet connections (servers and established)");
  table.header();
  for (const s of socks) table.row(s);
  return 0;
}

export const netstat: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default netstat;
