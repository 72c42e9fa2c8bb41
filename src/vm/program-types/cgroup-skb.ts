/**
 * BPF_PROG_TYPE_CGROUP_SKB. Context: struct __sk_buff from the network header. Returns 1 to allow
 * the packet, 0 to drop it (bit 1 asks for congestion notification on egress).
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, SKB_HELPER_NAMES, TASK_HELPER_NAMES } from "./helper-sets.js";
import { prepareSkb, skbLayout } from "./skb-context.js";
import { SOCKET_FILTER_READ } from "./socket-filter.js";
import type { ProgramTypeDef } from "./types.js";

export const cgroupSkb: ProgramTypeDef = {
  name: "cgroup_skb",
  kernelType: ProgramType.CGROUP_SKB,
  context: skbLayout({
    read: [
      ...SOCKET_FILTER_READ,
      "data",
      "data_end",
      "family",
      "remote_ip4",
      "local_ip4",
      "remote_ip6",
      "local_ip6",
      "remote_port",
      "local_port",
      "tstamp",
    ],
    write: ["mark", "priority", "cb", "tstamp"],
  }),
  helpers: [...BASE_HELPERS, ...SKB_HELPER_NAMES, ...TASK_HELPER_NAMES],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${r & 1 ? "allow" : "drop"} (${r})`,
  prepare: (memory, env, input) => prepareSkb("cgroup_skb", memory, env, input, false),
  verdict: (r) => ({ name: r & 1 ? "allow" : "drop", passes: (r & 1) === 1 }),
};
