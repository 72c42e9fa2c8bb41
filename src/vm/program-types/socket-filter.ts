/**
 * BPF_PROG_TYPE_SOCKET_FILTER. Context: struct __sk_buff from the network header (skb->len is
 * the frame length minus 14). The return value is how many bytes of the packet to keep: 0 drops
 * it, skb->len or more keeps it whole.
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, SKB_HELPER_NAMES } from "./helper-sets.js";
import { prepareSkb, skbLayout } from "./skb-context.js";
import type { ProgramTypeDef } from "./types.js";

/** __sk_buff fields socket filters may read (sk_filter_is_valid_access). */
export const SOCKET_FILTER_READ = [
  "len",
  "pkt_type",
  "mark",
  "queue_mapping",
  "protocol",
  "vlan_present",
  "vlan_tci",
  "vlan_proto",
  "priority",
  "ingress_ifindex",
  "ifindex",
  "tc_index",
  "cb",
  "hash",
  "napi_id",
  "gso_segs",
  "gso_size",
] as const;

export const socketFilter: ProgramTypeDef = {
  name: "socket_filter",
  kernelType: ProgramType.SOCKET_FILTER,
  context: skbLayout({ read: SOCKET_FILTER_READ, write: ["cb"] }),
  helpers: [...BASE_HELPERS, ...SKB_HELPER_NAMES],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => (r === 0 ? "drop (0)" : `keep ${r >>> 0} bytes (${r >>> 0})`),
  prepare: (memory, env, input) => prepareSkb("socket_filter", memory, env, input, false),
  verdict: (r) => (r === 0 ? { name: "drop", passes: false } : { name: "keep", passes: true, keep: r >>> 0 }),
};
