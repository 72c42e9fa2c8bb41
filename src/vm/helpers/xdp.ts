/**
 * XDP packet helpers on the env's PacketState (kind "xdp"), with the kernel's limits: the headroom
 * before data_meta keeps room for struct xdp_frame (40 bytes), metadata is at most 32 bytes in
 * 4-byte units, a frame keeps at least an Ethernet header, the tail grows up to the frame size
 * minus the skb_shared_info tailroom. Every change updates the ctx's data/data_end/data_meta slots.
 */
import type { HelperCall } from "../helper-registry.js";
import type { PacketState } from "../runtime/env.js";
import { isRedirectMap } from "../maps/slot-map.js";
import { envOf, Errno, type RuntimeHelper } from "./common.js";

/** sizeof(struct xdp_frame): kept free at the start of the headroom. */
export const XDP_FRAME_SIZE = 40;
const ETH_HLEN = 14;
const EACCES = 13;

/** The packet of an XDP run, or an error naming the helper. */
function xdpPacket(call: HelperCall, helper: string): PacketState {
  const p = envOf(call).packet;
  if (!p || p.kind !== "xdp") throw new Error(`${helper} needs an XDP packet (run the program as xdp)`);
  return p;
}

/** Little-endian u32 `v` at `off` of `bytes` (no DataView: this runs for every packet). */
export function setU32(bytes: Uint8Array, off: number, v: number): void {
  bytes[off] = v;
  bytes[off + 1] = v >>> 8;
  bytes[off + 2] = v >>> 16;
  bytes[off + 3] = v >>> 24;
}

/** Write the packet pointers into the context's pointer slots: (region id << 32) | offset. */
export function syncPacketPointers(p: PacketState): void {
  const id = p.region.id;
  const c = p.ctx.bytes;
  setU32(c, p.slots.data, p.data);
  setU32(c, p.slots.data + 4, id);
  setU32(c, p.slots.end, p.end);
  setU32(c, p.slots.end + 4, id);
  setU32(c, p.slots.meta, p.meta);
  setU32(c, p.slots.meta + 4, id);
}

export const XDP_HELPERS: readonly RuntimeHelper[] = [
  {
    // long bpf_xdp_adjust_head(struct xdp_buff *xdp_md, int delta)
    name: "bpf_xdp_adjust_head",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_adjust_head");
      const delta = call.argU32(2) | 0;
      const metalen = p.data - p.meta;
      const data = p.data + delta;
      if (data < p.start + XDP_FRAME_SIZE + metalen || data > p.end - ETH_HLEN) return -Errno.EINVAL;
      if (metalen > 0) p.region.bytes.copyWithin(p.meta + delta, p.meta, p.data);
      p.meta += delta;
      p.data = data;
      syncPacketPointers(p);
      return 0;
    },
  },
  {
    // long bpf_xdp_adjust_meta(struct xdp_buff *xdp_md, int delta)
    name: "bpf_xdp_adjust_meta",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_adjust_meta");
      const meta = p.meta + (call.argU32(2) | 0);
      if (meta < p.start + XDP_FRAME_SIZE || meta > p.data) return -Errno.EINVAL;
      const metalen = p.data - meta;
      if (metalen > 32 || metalen % 4 !== 0) return -EACCES;
      p.meta = meta;
      syncPacketPointers(p);
      return 0;
    },
  },
  {
    // long bpf_xdp_adjust_tail(struct xdp_buff *xdp_md, int delta)
    name: "bpf_xdp_adjust_tail",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_adjust_tail");
      const delta = call.argU32(2) | 0;
      const end = p.end + delta;
      if (end > p.limit || end < p.data + ETH_HLEN) return -Errno.EINVAL;
      if (delta > 0) p.region.bytes.fill(0, p.end, end);
      p.end = end;
      syncPacketPointers(p);
      return 0;
    },
  },
  {
    // u64 bpf_xdp_get_buff_len(struct xdp_buff *xdp_md): linear part only (no fragments here)
    name: "bpf_xdp_get_buff_len",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_get_buff_len");
      return p.end - p.data;
    },
  },
  {
    // long bpf_xdp_load_bytes(struct xdp_buff *xdp_md, u32 offset, void *buf, u32 len)
    name: "bpf_xdp_load_bytes",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_load_bytes");
      const offset = call.argU32(2);
      const len = call.argU32(4);
      if (offset > 0xffff || len > 0xffff) return -Errno.EFAULT;
      if (offset + len > p.end - p.data) return -Errno.EINVAL;
      call.memory
        .view(call.arg(3), len, true)
        .set(p.region.bytes.subarray(p.data + offset, p.data + offset + len));
      return 0;
    },
  },
  {
    // long bpf_xdp_store_bytes(struct xdp_buff *xdp_md, u32 offset, void *buf, u32 len)
    name: "bpf_xdp_store_bytes",
    fn: (call) => {
      const p = xdpPacket(call, "bpf_xdp_store_bytes");
      const offset = call.argU32(2);
      const len = call.argU32(4);
      if (offset > 0xffff || len > 0xffff) return -Errno.EFAULT;
      if (offset + len > p.end - p.data) return -Errno.EINVAL;
      p.region.bytes.set(call.memory.view(call.arg(3), len), p.data + offset);
      return 0;
    },
  },
];

/** XDP actions bpf_redirect_map may return from its flags when the slot is empty. */
const XDP_ACTION_MASK = 3;
const BPF_F_BROADCAST = 1 << 3;
const XDP_REDIRECT = 4;

export const REDIRECT_MAP_HELPERS: readonly RuntimeHelper[] = [
  {
    // long bpf_redirect_map(struct bpf_map *map, u64 key, u64 flags): __bpf_xdp_redirect_map
    name: "bpf_redirect_map",
    fn: (call) => {
      const env = envOf(call);
      const map = env.maps.mapAt(call.arg(1));
      if (!map) throw new Error(`r1 = 0x${call.arg(1).toString(16)} is not a map`);
      if (!isRedirectMap(map))
        throw new Error(`map '${map.name}' (${map.typeName}) is not a devmap, devmap_hash, cpumap or xskmap`);
      const flags = call.arg(3);
      // flags the map type does not take make the program's action XDP_ABORTED
      if (flags & ~BigInt(XDP_ACTION_MASK | map.redirectFlags)) return 0;
      const f = Number(flags);
      const index = call.argU32(2);
      const entry = map.redirectTarget(index);
      // the lower bits of the flags are the action when the slot is empty (unless broadcasting)
      if (!entry && !(f & BPF_F_BROADCAST)) return f & XDP_ACTION_MASK;
      env.redirect = { kind: "map", target: index, flags: f, map: map.name, ...entry };
      return XDP_REDIRECT;
    },
  },
];
