/**
 * skb helpers (bpf_skb_load_bytes, bpf_skb_store_bytes, bpf_l3_csum_replace, bpf_l4_csum_replace),
 * bpf_csum_diff, and the forwarding helpers shared by XDP and tc (bpf_redirect, bpf_fib_lookup).
 * Offsets are relative to skb->data (the Ethernet header for tc, the network header for socket
 * filters). Checksum arithmetic is the kernel's on a little-endian host: 16-bit fields are read
 * as stored, 32-bit values as the program passes them.
 */
import type { HelperCall } from "../helper-registry.js";
import type { PacketState } from "../runtime/env.js";
import { envOf, Errno, type RuntimeHelper } from "./common.js";

/** bpf_l3/l4_csum_replace flags (include/uapi/linux/bpf.h). */
export const CsumFlag = {
  HDR_FIELD_MASK: 0xf,
  PSEUDO_HDR: 1 << 4,
  MARK_MANGLED_0: 1 << 5,
  MARK_ENFORCE: 1 << 6,
  IPV6: 1 << 7,
} as const;
const CSUM_MANGLED_0 = 0xffff;

/** XDP and tc verdicts the forwarding helpers return. */
const XDP_ABORTED = 0;
const XDP_REDIRECT = 4;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const BPF_F_INGRESS = 1;
/** enum bpf_fib_lookup result: the VM has no routing table. */
export const BPF_FIB_LKUP_RET_NOT_FWDED = 4;
const FIB_LOOKUP_FLAGS = 0x3f;
const SIZEOF_BPF_FIB_LOOKUP = 64;

// ---- one's complement arithmetic (include/net/checksum.h), on unsigned 32-bit numbers ----
export const csumAdd = (a: number, b: number): number => {
  const s = (a >>> 0) + (b >>> 0);
  return s > 0xffffffff ? s - 0xffffffff : s;
};
export const csumSub = (a: number, b: number): number => csumAdd(a, ~b >>> 0);
export const csumFold = (c: number): number => {
  let s = (c & 0xffff) + (c >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
};
const csum16Add = (c: number, a: number): number => {
  const s = (c & 0xffff) + (a & 0xffff);
  return (s + (s >>> 16)) & 0xffff;
};

/** csum_partial of 4-byte words (x86-64 semantics: a 32-bit one's complement sum). */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = seed >>> 0;
  for (let i = 0; i + 4 <= bytes.length; i += 4) sum = csumAdd(sum, v.getUint32(i, true));
  return sum;
}

function skbPacket(call: HelperCall, helper: string): PacketState {
  const p = envOf(call).packet;
  if (!p || p.kind !== "skb")
    throw new Error(`${helper} needs an skb (run the program as tc or a socket filter)`);
  return p;
}

/** The checksum field at skb->data + offset (2 bytes), or undefined when outside the packet. */
function sumField(p: PacketState, offset: number): DataView | undefined {
  if (offset > 0xffff || offset & 1 || p.data + offset + 2 > p.end) return undefined;
  return new DataView(p.region.bytes.buffer, p.region.bytes.byteOffset + p.data + offset, 2);
}

function replace(sum: DataView, field: number, from: number, to: number): boolean {
  const old = sum.getUint16(0, true);
  switch (field) {
    case 0:
      if (from !== 0) return false;
      sum.setUint16(0, csumFold(csumAdd(to, ~old >>> 0)), true); // csum_replace_by_diff
      return true;
    case 2:
      sum.setUint16(0, ~csum16Add(csum16Add(~old, ~from), to) & 0xffff, true); // csum_replace2
      return true;
    case 4:
      sum.setUint16(0, csumFold(csumAdd(csumSub(~old >>> 0, from), to)), true); // csum_replace4
      return true;
    default:
      return false;
  }
}

const low32 = (v: bigint): number => Number(v & 0xffffffffn);

export const SKB_HELPERS: readonly RuntimeHelper[] = [
  {
    // long bpf_skb_load_bytes(const void *skb, u32 offset, void *to, u32 len)
    name: "bpf_skb_load_bytes",
    fn: (call) => {
      const p = skbPacket(call, "bpf_skb_load_bytes");
      const offset = call.argU32(2);
      const len = call.argU32(4);
      const to = call.memory.view(call.arg(3), len, true);
      if (offset > 0x7fffffff || p.data + offset + len > p.end) {
        to.fill(0);
        return -Errno.EFAULT;
      }
      to.set(p.region.bytes.subarray(p.data + offset, p.data + offset + len));
      return 0;
    },
  },
  {
    // long bpf_skb_load_bytes_relative(const void *skb, u32 offset, void *to, u32 len, u32 start_header)
    name: "bpf_skb_load_bytes_relative",
    fn: (call) => {
      const p = skbPacket(call, "bpf_skb_load_bytes_relative");
      const offset = call.argU32(2);
      const len = call.argU32(4);
      const header = call.argU32(5); // BPF_HDR_START_MAC 0, BPF_HDR_START_NET 1
      const to = call.memory.view(call.arg(3), len, true);
      const macStart = p.data + p.networkOffset - 14;
      const start = header === 0 ? macStart : header === 1 ? p.data + p.networkOffset : -1;
      if (start < 0 || len === 0 || offset > 0xffff || start + offset + len > p.end) {
        to.fill(0);
        return header > 1 ? -Errno.EINVAL : -Errno.EFAULT;
      }
      to.set(p.region.bytes.subarray(start + offset, start + offset + len));
      return 0;
    },
  },
  {
    // long bpf_skb_store_bytes(struct sk_buff *skb, u32 offset, const void *from, u32 len, u64 flags)
    name: "bpf_skb_store_bytes",
    fn: (call) => {
      const p = skbPacket(call, "bpf_skb_store_bytes");
      if (call.arg(5) & ~3n) return -Errno.EINVAL; // BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH
      const offset = call.argU32(2);
      const len = call.argU32(4);
      if (offset > 0x7fffffff || p.data + offset + len > p.end) return -Errno.EFAULT;
      p.region.bytes.set(call.memory.view(call.arg(3), len), p.data + offset);
      return 0;
    },
  },
  {
    // long bpf_l3_csum_replace(struct sk_buff *skb, u32 offset, u64 from, u64 to, u64 size)
    name: "bpf_l3_csum_replace",
    fn: (call) => {
      const p = skbPacket(call, "bpf_l3_csum_replace");
      const flags = call.arg(5);
      if (flags & ~BigInt(CsumFlag.HDR_FIELD_MASK)) return -Errno.EINVAL;
      const sum = sumField(p, call.argU32(2));
      if (!sum) return -Errno.EFAULT;
      return replace(sum, Number(flags), low32(call.arg(3)), low32(call.arg(4))) ? 0 : -Errno.EINVAL;
    },
  },
  {
    // long bpf_l4_csum_replace(struct sk_buff *skb, u32 offset, u64 from, u64 to, u64 flags)
    name: "bpf_l4_csum_replace",
    fn: (call) => {
      const p = skbPacket(call, "bpf_l4_csum_replace");
      const all =
        CsumFlag.HDR_FIELD_MASK |
        CsumFlag.PSEUDO_HDR |
        CsumFlag.MARK_MANGLED_0 |
        CsumFlag.MARK_ENFORCE |
        CsumFlag.IPV6;
      const flags = call.arg(5);
      if (flags & ~BigInt(all)) return -Errno.EINVAL;
      const f = Number(flags);
      const sum = sumField(p, call.argU32(2));
      if (!sum) return -Errno.EFAULT;
      const mangled0 = (f & CsumFlag.MARK_MANGLED_0) !== 0;
      // a zero UDP checksum means "none": leave it unless told to enforce
      if (mangled0 && !(f & CsumFlag.MARK_ENFORCE) && sum.getUint16(0, true) === 0) return 0;
      // test runs have ip_summed = CHECKSUM_NONE: the pseudo-header flag changes nothing to the field
      if (!replace(sum, f & CsumFlag.HDR_FIELD_MASK, low32(call.arg(3)), low32(call.arg(4))))
        return -Errno.EINVAL;
      if (mangled0 && sum.getUint16(0, true) === 0) sum.setUint16(0, CSUM_MANGLED_0, true);
      return 0;
    },
  },
  {
    // s64 bpf_csum_diff(__be32 *from, u32 from_size, __be32 *to, u32 to_size, __wsum seed)
    name: "bpf_csum_diff",
    fn: (call) => {
      const fromSize = call.argU32(2);
      const toSize = call.argU32(4);
      if ((fromSize | toSize) & 3 || fromSize + toSize > 512) return -Errno.EINVAL;
      const diff = new Uint8Array(fromSize + toSize);
      if (fromSize > 0) {
        const from = call.memory.view(call.arg(1), fromSize);
        for (let i = 0; i < fromSize; i++) diff[i] = ~from[i]! & 0xff;
      }
      if (toSize > 0) diff.set(call.memory.view(call.arg(3), toSize), fromSize);
      return csumPartial(diff, call.argU32(5));
    },
  },
  {
    // long bpf_redirect(u32 ifindex, u64 flags)
    name: "bpf_redirect",
    fn: (call) => {
      const env = envOf(call);
      const flags = call.arg(2);
      const xdp = env.packet?.kind === "xdp";
      if (xdp ? flags !== 0n : (flags & ~BigInt(BPF_F_INGRESS)) !== 0n)
        return xdp ? XDP_ABORTED : TC_ACT_SHOT;
      env.redirect = { kind: "ifindex", target: call.argU32(1), flags: Number(flags) };
      return xdp ? XDP_REDIRECT : TC_ACT_REDIRECT;
    },
  },
  {
    // long bpf_fib_lookup(void *ctx, struct bpf_fib_lookup *params, int plen, u32 flags)
    name: "bpf_fib_lookup",
    fn: (call) => {
      if ((call.argU32(3) | 0) < SIZEOF_BPF_FIB_LOOKUP) return -Errno.EINVAL;
      if (call.argU32(4) & ~FIB_LOOKUP_FLAGS) return -Errno.EINVAL;
      call.memory.view(call.arg(2), SIZEOF_BPF_FIB_LOOKUP, true); // must be writable, as the kernel's
      return BPF_FIB_LKUP_RET_NOT_FWDED;
    },
  },
];
