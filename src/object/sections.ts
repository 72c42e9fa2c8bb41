/**
 * Program discovery by ELF section name: libbpf's SEC_DEF table as data. A row is a section
 * pattern in libbpf's tiny pattern language, the program type, the expected attach type and
 * flags. Patterns:
 *   "x"   the section is exactly "x"
 *   "x+"  the section is "x" or "x/<anything>"
 *   "x/"  the section is "x/<something>" (the suffix is required)
 * Rows are tried in order and the first match wins, so more specific rows come first
 * ("xdp.frags/devmap" before "xdp.frags" before "xdp").
 */
import { AttachType as A, ProgramType as P } from "./types.js";
import type { AttachType, ProgramType } from "./types.js";

/**
 * What a row says about its programs beyond the types.
 * - attach-btf: the attach target is a kernel BTF function/type named after the prefix (SEC_ATTACH_BTF)
 * - sleepable: load with BPF_F_SLEEPABLE
 * - attachable: the expected attach type must be given at load (SEC_ATTACHABLE)
 * - attachable-opt: give it at load, retry without on old kernels (SEC_ATTACHABLE_OPT)
 * - xdp-frags: load with BPF_F_XDP_HAS_FRAGS
 * - usdt: a USDT probe (needs the usdt.bpf.h runtime maps)
 * - retprobe: a return probe (kretprobe, uretprobe, kretsyscall…)
 * - legacy: not a libbpf section; an older loader convention
 */
export type SectionFlag =
  "attach-btf" | "sleepable" | "attachable" | "attachable-opt" | "xdp-frags" | "usdt" | "retprobe" | "legacy";

/** How a backend auto-attaches a program of this section (libbpf's attach_fn), if it can. */
export type AutoAttach =
  | "kprobe"
  | "kprobe.multi"
  | "kprobe.session"
  | "ksyscall"
  | "uprobe"
  | "uprobe.multi"
  | "usdt"
  | "tracepoint"
  | "raw_tracepoint"
  | "trace"
  | "lsm"
  | "iter";

/** One row of the section table. */
export interface SectionDef {
  /** The pattern ("kprobe+", "xdp", "cgroup/"), see the module comment. */
  readonly pattern: string;
  readonly programType: ProgramType;
  /** The expected attach type; undefined where libbpf passes 0 and none applies. */
  readonly attachType: AttachType | undefined;
  readonly flags: readonly SectionFlag[];
  readonly autoAttach?: AutoAttach;
}

function def(
  pattern: string,
  programType: ProgramType,
  attachType: AttachType | undefined,
  flags: readonly SectionFlag[] = [],
  autoAttach?: AutoAttach,
): SectionDef {
  return autoAttach === undefined
    ? { pattern, programType, attachType, flags }
    : { pattern, programType, attachType, flags, autoAttach };
}

const NONE = undefined;
const SLEEP: readonly SectionFlag[] = ["sleepable"];
const RET: readonly SectionFlag[] = ["retprobe"];
const RET_SLEEP: readonly SectionFlag[] = ["retprobe", "sleepable"];
const BTF: readonly SectionFlag[] = ["attach-btf"];
const BTF_SLEEP: readonly SectionFlag[] = ["attach-btf", "sleepable"];
const ATT: readonly SectionFlag[] = ["attachable"];
const OPT: readonly SectionFlag[] = ["attachable-opt"];
const FRAGS: readonly SectionFlag[] = ["xdp-frags"];

/** The section table, in matching order (libbpf's section_defs, plus the legacy "prog"). */
export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", P.SOCKET_FILTER, NONE),
  def("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, ATT),
  def("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, ATT),
  def("kprobe+", P.KPROBE, NONE, [], "kprobe"),
  def("uprobe+", P.KPROBE, NONE, [], "uprobe"),
  def("uprobe.s+", P.KPROBE, NONE, SLEEP, "uprobe"),
  def("kretprobe+", P.KPROBE, NONE, RET, "kprobe"),
  def("uretprobe+", P.KPROBE, NONE, RET, "uprobe"),
  def("uretprobe.s+", P.KPROBE, NONE, RET_SLEEP, "uprobe"),
  def("kprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI, [], "kprobe.multi"),
  def("kretprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI, RET, "kprobe.multi"),
  def("kprobe.session+", P.KPROBE, A.TRACE_KPROBE_SESSION, [], "kprobe.session"),
  def("uprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI, [], "uprobe.multi"),
  def("uretprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI, RET, "uprobe.multi"),
  def("uprobe.session+", P.KPROBE, A.TRACE_UPROBE_SESSION, [], "uprobe.multi"),
  def("uprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, SLEEP, "uprobe.multi"),
  def("uretprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, RET_SLEEP, "uprobe.multi"),
  def("uprobe.session.s+", P.KPROBE, A.TRACE_UPROBE_SESSION, SLEEP, "uprobe.multi"),
  def("ksyscall+", P.KPROBE, NONE, [], "ksyscall"),
  def("kretsyscall+", P.KPROBE, NONE, RET, "ksyscall"),
  def("usdt+", P.KPROBE, NONE, ["usdt"], "usdt"),
  def("usdt.s+", P.KPROBE, NONE, ["usdt", "sleepable"], "usdt"),
  def("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS), // alias of tcx/ingress
  def("tc/egress", P.SCHED_CLS, A.TCX_EGRESS), // alias of tcx/egress
  def("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS),
  def("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS),
  def("netkit/primary", P.SCHED_CLS, A.NETKIT_PRIMARY),
  def("netkit/peer", P.SCHED_CLS, A.NETKIT_PEER),
  def("tc", P.SCHED_CLS, NONE),
  def("classifier", P.SCHED_CLS, NONE),
  def("action", P.SCHED_ACT, NONE),
  def("tracepoint+", P.TRACEPOINT, NONE, [], "tracepoint"),
  def("tp+", P.TRACEPOINT, NONE, [], "tracepoint"),
  def("raw_tracepoint+", P.RAW_TRACEPOINT, NONE, [], "raw_tracepoint"),
  def("raw_tp+", P.RAW_TRACEPOINT, NONE, [], "raw_tracepoint"),
  def("raw_tracepoint.w+", P.RAW_TRACEPOINT_WRITABLE, NONE, [], "raw_tracepoint"),
  def("raw_tp.w+", P.RAW_TRACEPOINT_WRITABLE, NONE, [], "raw_tracepoint"),
  def("tp_btf+", P.TRACING, A.TRACE_RAW_TP, BTF, "trace"),
  def("fentry+", P.TRACING, A.TRACE_FENTRY, BTF, "trace"),
  def("fmod_ret+", P.TRACING, A.MODIFY_RETURN, BTF, "trace"),
  def("fexit+", P.TRACING, A.TRACE_FEXIT, BTF, "trace"),
  def("fentry.s+", P.TRACING, A.TRACE_FENTRY, BTF_SLEEP, "trace"),
  def("fmod_ret.s+", P.TRACING, A.MODIFY_RETURN, BTF_SLEEP, "trace"),
  def("fexit.s+", P.TRACING, A.TRACE_FEXIT, BTF_SLEEP, "trace"),
  def("freplace+", P.EXT, NONE, BTF, "trace"),
  def("lsm+", P.LSM, A.LSM_MAC, BTF, "lsm"),
  def("lsm.s+", P.LSM, A.LSM_MAC, BTF_SLEEP, "lsm"),
  def("lsm_cgroup+", P.LSM, A.LSM_CGROUP, BTF),
  def("iter+", P.TRACING, A.TRACE_ITER, BTF, "iter"),
  def("iter.s+", P.TRACING, A.TRACE_ITER, BTF_SLEEP, "iter"),
  def("syscall", P.SYSCALL, NONE, SLEEP),
  def("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, FRAGS),
  def("xdp/devmap", P.XDP, A.XDP_DEVMAP, ATT),
  def("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, FRAGS),
  def("xdp/cpumap", P.XDP, A.XDP_CPUMAP, ATT),
  def("xdp.frags", P.XDP, A.XDP, FRAGS),
  def("xdp", P.XDP, A.XDP, OPT),
  def("perf_event", P.PERF_EVENT, NONE),
  def("lwt_in", P.LWT_IN, NONE),
  def("lwt_out", P.LWT_OUT, NONE),
  def("lwt_xmit", P.LWT_XMIT, NONE),
  def("lwt_seg6local", P.LWT_SEG6LOCAL, NONE),
  def("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, OPT),
  def("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, OPT),
  def("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, OPT),
  def("sk_skb/verdict", P.SK_SKB, A.SK_SKB_VERDICT, OPT),
  def("sk_skb", P.SK_SKB, NONE),
  def("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, OPT),
  def("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, OPT),
  def("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, OPT),
  def("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, OPT),
  def("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, OPT),
  def("cgroup/skb", P.CGROUP_SKB, NONE),
  def("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, ATT),
  def("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, ATT),
  def("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, OPT),
  def("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, ATT),
  def("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, ATT),
  def("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, ATT),
  def("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, ATT),
  def("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, ATT),
  def("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, ATT),
  def("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, ATT),
  def("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, ATT),
  def("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, ATT),
  def("cgroup/sendmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, ATT),
  def("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, ATT),
  def("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, ATT),
  def("cgroup/recvmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, ATT),
  def("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, ATT),
  def("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, ATT),
  def("cgroup/getpeername_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, ATT),
  def("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, ATT),
  def("cgroup/getsockname6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, ATT),
  def("cgroup/getsockname_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, ATT),
  def("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, ATT),
  def("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, ATT),
  def("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, ATT),
  def("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, OPT),
  def("struct_ops+", P.STRUCT_OPS, NONE),
  def("struct_ops.s+", P.STRUCT_OPS, NONE, SLEEP),
  def("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, ATT),
  def("netfilter", P.NETFILTER, A.NETFILTER),
  // The single-program convention of old custom loaders (e.g. kprobe loaders taking tc's
  // bpf_elf_map): the caller names the type; kprobe when it does not.
  def("prog", P.KPROBE, NONE, ["legacy"]),
];

/** A section name matched against the table. */
export interface SectionMatch {
  readonly def: SectionDef;
  /** What follows the prefix and its "/": "syscalls/sys_enter_openat" for "tp/syscalls/sys_enter_openat"; "" when nothing. */
  readonly attachTo: string;
}

/** Whether `section` matches `pattern` in libbpf's pattern language (sec_def_matches). */
export function sectionMatches(pattern: string, section: string): boolean {
  if (pattern.endsWith("/")) return section.startsWith(pattern) && section.length > pattern.length;
  if (pattern.endsWith("+")) {
    const prefix = pattern.slice(0, -1);
    return section === prefix || section.startsWith(`${prefix}/`);
  }
  return section === pattern;
}

/** The first row matching `section` and the attach target after its prefix, or undefined. */
export function matchSection(
  section: string,
  table: readonly SectionDef[] = SECTION_DEFS,
): SectionMatch | undefined {
  for (const d of table) {
    if (!sectionMatches(d.pattern, section)) continue;
    const prefix = d.pattern.replace(/[+/]$/, "");
    const attachTo = section.length > prefix.length ? section.slice(prefix.length + 1) : "";
    return { def: d, attachTo };
  }
  return undefined;
}
