/**
 * BPF_PROG_TYPE_XDP. Context: struct xdp_md (six u32, read-only; data, data_end and data_meta are
 * packet pointers). Test runs follow bpf_prog_test_run_xdp: a 4096-byte frame with
 * XDP_PACKET_HEADROOM (256) before the data and the skb_shared_info tailroom (320) after it; the
 * device is the loopback (ingress_ifindex 1, rx queue 0); ctx_in may give metadata
 * (data - data_meta bytes at the start of data_in). data_out starts at data_meta.
 */
import { ProgramType } from "../../object/types.js";
import { setU32, syncPacketPointers, XDP_HELPERS } from "../helpers/xdp.js";
import type { Memory } from "../memory.js";
import type { ContextLayout } from "../runtime/ctx-access.js";
import type { PacketState, RuntimeEnv } from "../runtime/env.js";
import { TestRunInputError } from "./errors.js";
import { BASE_HELPERS, COMMON_KFUNCS } from "./helper-sets.js";
import type { PreparedRun, ProgramTypeDef, TestRunInput } from "./types.js";

/** enum xdp_action. */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
const XDP_ACTION_NAMES = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"];

/** Bytes before the packet data (XDP_PACKET_HEADROOM). */
export const XDP_PACKET_HEADROOM = 256;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: kept free at the end of the frame. */
export const XDP_TAILROOM = 320;
/** Frame size of a test run (PAGE_SIZE). */
export const XDP_FRAME_SIZE_BYTES = 4096;
const ETH_HLEN = 14;
const XDP_MD_SIZE = 24;
/** Loopback: the device of test runs. */
const LOOPBACK_IFINDEX = 1;

const slot = { data: 24, end: 32, meta: 40 } as const;

export const XDP_MD_LAYOUT: ContextLayout = {
  name: "struct xdp_md",
  size: XDP_MD_SIZE,
  vmSize: XDP_MD_SIZE + 24,
  fields: [
    { name: "data", offset: 0, size: 4, access: "read", pointerSlot: slot.data },
    { name: "data_end", offset: 4, size: 4, access: "read", pointerSlot: slot.end },
    { name: "data_meta", offset: 8, size: 4, access: "read", pointerSlot: slot.meta },
    { name: "ingress_ifindex", offset: 12, size: 4, access: "read" },
    { name: "rx_queue_index", offset: 16, size: 4, access: "read" },
    { name: "egress_ifindex", offset: 20, size: 4, access: "read" },
  ],
};

function prepare(memory: Memory, env: RuntimeEnv, input: TestRunInput): PreparedRun {
  const bad = (why: string): never => {
    throw new TestRunInputError("xdp", why);
  };
  const data = input.dataIn ?? bad("data_in is required");
  if (data.length < ETH_HLEN) bad(`data_in is ${data.length} bytes, less than an Ethernet header (14)`);
  let metalen = 0;
  let ingress = LOOPBACK_IFINDEX;
  let rxQueue = 0;
  if (input.ctxIn && input.ctxIn.length > 0) {
    const c = input.ctxIn;
    if (c.length > XDP_MD_SIZE && c.subarray(XDP_MD_SIZE).some((b) => b !== 0))
      bad("ctx_in has non-zero bytes past struct xdp_md");
    const md = new DataView(
      new Uint8Array([...c, ...new Uint8Array(Math.max(0, XDP_MD_SIZE - c.length))]).buffer,
    );
    const [dataOff, dataEnd, dataMeta] = [
      md.getUint32(0, true),
      md.getUint32(4, true),
      md.getUint32(8, true),
    ];
    if (dataMeta !== 0) bad("ctx_in data_meta must be 0 (metadata starts data_in)");
    if (dataEnd !== data.length)
      bad(`ctx_in data_end (${dataEnd}) must be the data_in size (${data.length})`);
    if (dataOff > dataEnd || dataOff > 32 || dataOff % 4 !== 0)
      bad(`ctx_in data (${dataOff}) is not a valid metadata length`);
    if (md.getUint32(20, true) !== 0) bad("ctx_in egress_ifindex must be 0");
    metalen = dataOff;
    ingress = md.getUint32(12, true) || LOOPBACK_IFINDEX;
    rxQueue = md.getUint32(16, true);
    if (md.getUint32(12, true) === 0 && rxQueue !== 0) bad("ctx_in rx_queue_index needs an ingress_ifindex");
  }
  const frame = Math.max(XDP_FRAME_SIZE_BYTES, XDP_PACKET_HEADROOM + data.length + XDP_TAILROOM);
  const start = XDP_PACKET_HEADROOM - metalen;
  // zeroed frame and context, reused from run to run (Memory.acquireScratch)
  const packetRegion = memory.acquireScratch("packet", "xdp packet", frame);
  packetRegion.bytes.set(data, start);
  const ctx = memory.acquireScratch("context", "xdp_md", XDP_MD_LAYOUT.vmSize);
  setU32(ctx.bytes, 12, ingress);
  setU32(ctx.bytes, 16, rxQueue);
  const packet: PacketState = {
    kind: "xdp",
    region: packetRegion,
    start: 0,
    meta: start,
    data: start + metalen,
    end: start + data.length,
    limit: frame - XDP_TAILROOM,
    ctx,
    slots: slot,
    networkOffset: ETH_HLEN,
  };
  syncPacketPointers(packet);
  env.packet = packet;
  env.redirect = undefined;
  return {
    ctxAddress: ctx.base,
    packet,
    finish() {
      const dataOut = packetRegion.bytes.slice(packet.meta, packet.end);
      const ctxOut = ctx.bytes.slice(0, XDP_MD_SIZE);
      setU32(ctxOut, 0, packet.data - packet.meta);
      setU32(ctxOut, 4, packet.end - packet.meta);
      setU32(ctxOut, 8, 0);
      memory.releaseScratch(ctx);
      memory.releaseScratch(packetRegion);
      if (env.packet === packet) env.packet = undefined;
      return { dataOut, ctxOut };
    },
  };
}

export const xdp: ProgramTypeDef = {
  name: "xdp",
  kernelType: ProgramType.XDP,
  context: XDP_MD_LAYOUT,
  helpers: [
    ...BASE_HELPERS,
    ...XDP_HELPERS.map((h) => h.name),
    "bpf_redirect",
    "bpf_redirect_map",
    "bpf_fib_lookup",
    "bpf_csum_diff",
    "bpf_perf_event_output",
  ],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${XDP_ACTION_NAMES[r] ?? "unknown XDP action"} (${r})`,
  prepare,
  verdict: (r) => ({ name: XDP_ACTION_NAMES[r] ?? `XDP_UNKNOWN(${r})`, passes: r === XdpAction.PASS }),
};
