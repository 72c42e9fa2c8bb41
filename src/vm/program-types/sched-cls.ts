/**
 * BPF_PROG_TYPE_SCHED_CLS (tc and tcx classifiers). Context: struct __sk_buff from the Ethernet
 * header. Return values: TC_ACT_* (tcx: TCX_NEXT -1, TCX_PASS 0, TCX_DROP 2, TCX_REDIRECT 7 share
 * the numbers).
 */
import { ProgramType } from "../../object/types.js";
import { SKB_HELPERS } from "../helpers/skb.js";
import { BASE_HELPERS, COMMON_KFUNCS } from "./helper-sets.js";
import { prepareSkb, skbLayout } from "./skb-context.js";
import type { ProgramTypeDef } from "./types.js";

/** TC_ACT_* (include/uapi/linux/pkt_cls.h). */
export const TcAction = {
  UNSPEC: -1,
  OK: 0,
  RECLASSIFY: 1,
  SHOT: 2,
  PIPE: 3,
  STOLEN: 4,
  QUEUED: 5,
  REPEAT: 6,
  REDIRECT: 7,
  TRAP: 8,
} as const;
const TC_NAMES = new Map<number, string>(Object.entries(TcAction).map(([k, v]) => [v, `TC_ACT_${k}`]));

const READ = [
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
  "tc_classid",
  "data",
  "data_end",
  "napi_id",
  "family",
  "remote_ip4",
  "local_ip4",
  "remote_ip6",
  "local_ip6",
  "remote_port",
  "local_port",
  "data_meta",
  "tstamp",
  "wire_len",
  "gso_segs",
  "gso_size",
  "tstamp_type",
  "hwtstamp",
] as const;

export const schedCls: ProgramTypeDef = {
  name: "sched_cls",
  kernelType: ProgramType.SCHED_CLS,
  context: skbLayout({
    read: READ,
    write: ["mark", "tc_index", "priority", "cb", "tc_classid", "tstamp", "queue_mapping"],
  }),
  helpers: [...BASE_HELPERS, ...SKB_HELPERS.map((h) => h.name), "bpf_perf_event_output"],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${TC_NAMES.get(r | 0) ?? "unknown TC action"} (${r | 0})`,
  prepare: (memory, env, input) => prepareSkb("sched_cls", memory, env, input, true),
  verdict: (r) => {
    const v = r | 0;
    return {
      name: TC_NAMES.get(v) ?? `TC_ACT_UNKNOWN(${v})`,
      passes: v === TcAction.OK || v === TcAction.UNSPEC || v === TcAction.PIPE,
    };
  },
};
