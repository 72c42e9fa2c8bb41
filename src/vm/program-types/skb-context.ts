/**
 * struct __sk_buff and the test-run skb shared by sched_cls, socket_filter and cgroup_skb,
 * following bpf_prog_test_run_skb: eth_type_trans gives protocol and pkt_type (the device is the
 * loopback, MAC 00:00:00:00:00:00, ifindex 1); a dummy socket gets the IPv4/IPv6 addresses; L2
 * types (tc) see the frame from the Ethernet header, the others from the network header (len =
 * frame length - 14) and get data_out with a zeroed Ethernet header, as the kernel pushes one back.
 * ctx_in may set only mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs,
 * gso_size and hwtstamp; other non-zero bytes are refused (-EINVAL in the kernel).
 */
import type { Memory } from "../memory.js";
import type { ContextField, ContextLayout } from "../runtime/ctx-access.js";
import type { PacketState, RuntimeEnv } from "../runtime/env.js";
import { TestRunInputError } from "./errors.js";
import type { PreparedRun, TestRunInput } from "./types.js";

export const SK_BUFF_SIZE = 192;
const ETH_HLEN = 14;
const LOOPBACK_IFINDEX = 1;
const slot = { data: 192, end: 200, meta: 208 } as const;

/** Offsets of struct __sk_buff (include/uapi/linux/bpf.h). */
export const SkBuff = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100,
  local_ip6: 116,
  remote_port: 132,
  local_port: 136,
  data_meta: 140,
  flow_keys: 144,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  sk: 168,
  gso_size: 176,
  tstamp_type: 180,
  hwtstamp: 184,
} as const;

type FieldName = keyof typeof SkBuff;
const FIELD_SIZES: Partial<Record<FieldName, number>> = {
  cb: 20,
  remote_ip6: 16,
  local_ip6: 16,
  flow_keys: 8,
  tstamp: 8,
  sk: 8,
  tstamp_type: 1,
  hwtstamp: 8,
};

/** Which __sk_buff fields a program type reads and writes. */
export interface SkbAccess {
  readonly read: readonly FieldName[];
  readonly write: readonly FieldName[];
}

/** The __sk_buff layout of a program type: narrow reads allowed except for pointers and u64s. */
export function skbLayout(access: SkbAccess): ContextLayout {
  const fields: ContextField[] = [];
  for (const name of new Set([...access.read, ...access.write])) {
    const offset = SkBuff[name];
    const kind = access.read.includes(name) ? (access.write.includes(name) ? "read-write" : "read") : "write";
    const pointerSlot =
      name === "data"
        ? slot.data
        : name === "data_end"
          ? slot.end
          : name === "data_meta"
            ? slot.meta
            : undefined;
    const size = FIELD_SIZES[name] ?? 4;
    const arrayOf = name === "cb" ? 5 : name === "remote_ip6" || name === "local_ip6" ? 4 : 1;
    for (let k = 0; k < arrayOf; k++) {
      const each = size / arrayOf;
      fields.push({
        name: arrayOf > 1 ? `${name}[${k}]` : name,
        offset: offset + k * each,
        size: each,
        access: kind,
        narrow: pointerSlot === undefined && each === 4,
        ...(pointerSlot !== undefined ? { pointerSlot } : {}),
      });
    }
  }
  fields.sort((a, b) => a.offset - b.offset);
  return { name: "struct __sk_buff", size: SK_BUFF_SIZE, vmSize: SK_BUFF_SIZE + 24, fields };
}

/** Fields test runs take from ctx_in (convert___skb_to_skb). */
const SETTABLE: readonly [number, number][] = [
  [SkBuff.mark, 4],
  [SkBuff.priority, 4],
  [SkBuff.ingress_ifindex, 4],
  [SkBuff.ifindex, 4],
  [SkBuff.cb, 20],
  [SkBuff.tstamp, 8],
  [SkBuff.wire_len, 4],
  [SkBuff.gso_segs, 4],
  [SkBuff.gso_size, 4],
  [SkBuff.hwtstamp, 8],
];

/** PACKET_* of eth_type_trans for the loopback device (MAC 00:00:00:00:00:00). */
function packetType(frame: Uint8Array): number {
  const dst = frame.subarray(0, 6);
  if (dst[0]! & 1) return dst.every((b) => b === 0xff) ? 1 : 2; // PACKET_BROADCAST / PACKET_MULTICAST
  return dst.every((b) => b === 0) ? 0 : 3; // PACKET_HOST / PACKET_OTHERHOST
}

/** Prepare an skb test run. `l2`: the program sees the Ethernet header (tc). */
export function prepareSkb(
  typeName: string,
  memory: Memory,
  env: RuntimeEnv,
  input: TestRunInput,
  l2: boolean,
): PreparedRun {
  const bad = (why: string): never => {
    throw new TestRunInputError(typeName, why);
  };
  const frame = input.dataIn ?? bad("data_in is required");
  if (frame.length < ETH_HLEN) bad(`data_in is ${frame.length} bytes, less than an Ethernet header (14)`);
  const ctx = memory.addRegion({ kind: "context", name: "__sk_buff", length: SK_BUFF_SIZE + 24 });
  const c = new DataView(ctx.bytes.buffer);
  if (input.ctxIn && input.ctxIn.length > 0) {
    const given = input.ctxIn;
    if (given.length > SK_BUFF_SIZE) bad(`ctx_in is ${given.length} bytes, more than struct __sk_buff (192)`);
    for (let i = 0; i < given.length; i++) {
      if (given[i] === 0) continue;
      if (!SETTABLE.some(([o, n]) => i >= o && i < o + n))
        bad(`ctx_in sets __sk_buff byte ${i}, which test runs do not accept`);
    }
    ctx.bytes.set(given);
    if (c.getUint32(SkBuff.ifindex, true) > LOOPBACK_IFINDEX)
      bad(`ctx_in ifindex ${c.getUint32(SkBuff.ifindex, true)}: the VM has only the loopback device`);
  }
  const headroom = 64;
  const bytes = new Uint8Array(headroom + frame.length + 64);
  bytes.set(frame, headroom);
  const region = memory.addRegion({ kind: "packet", name: "skb data", bytes });
  const data = l2 ? headroom : headroom + ETH_HLEN;
  const end = headroom + frame.length;
  const proto = (frame[12]! << 8) | frame[13]!;
  c.setUint32(SkBuff.len, end - data, true);
  c.setUint32(SkBuff.pkt_type, packetType(frame), true);
  c.setUint32(SkBuff.protocol, ((proto & 0xff) << 8) | (proto >> 8), true); // __be16 as stored
  c.setUint32(SkBuff.ifindex, LOOPBACK_IFINDEX, true);
  const net = frame.subarray(ETH_HLEN);
  if (proto === 0x0800 && net.length >= 20) {
    c.setUint32(SkBuff.family, 2, true);
    ctx.bytes.set(net.subarray(16, 20), SkBuff.remote_ip4); // sk_daddr
    ctx.bytes.set(net.subarray(12, 16), SkBuff.local_ip4); // sk_rcv_saddr
  } else if (proto === 0x86dd && net.length >= 40) {
    c.setUint32(SkBuff.family, 10, true);
    ctx.bytes.set(net.subarray(24, 40), SkBuff.remote_ip6);
    ctx.bytes.set(net.subarray(8, 24), SkBuff.local_ip6);
  }
  const packet: PacketState = {
    kind: "skb",
    region,
    start: 0,
    meta: data,
    data,
    end,
    limit: end,
    ctx,
    slots: slot,
    networkOffset: l2 ? ETH_HLEN : 0,
  };
  const base = region.base;
  c.setBigUint64(slot.data, base + BigInt(data), true);
  c.setBigUint64(slot.end, base + BigInt(end), true);
  c.setBigUint64(slot.meta, base + BigInt(data), true);
  const ldAbs = memory.addRegion({
    kind: "packet",
    name: "skb data (LD_ABS)",
    bytes: bytes.subarray(data, end),
    writable: false,
  });
  env.packet = packet;
  env.redirect = undefined;
  return {
    ctxAddress: ctx.base,
    ldAbsPacket: ldAbs,
    packet,
    finish() {
      const payload = bytes.slice(packet.data, packet.end);
      const dataOut = l2 ? payload : new Uint8Array([...new Uint8Array(ETH_HLEN), ...payload]);
      const ctxOut = ctx.bytes.slice(0, SK_BUFF_SIZE);
      memory.removeRegion(ldAbs);
      memory.removeRegion(ctx);
      memory.removeRegion(region);
      if (env.packet === packet) env.packet = undefined;
      return { dataOut, ctxOut };
    },
  };
}
