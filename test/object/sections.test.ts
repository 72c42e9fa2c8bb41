import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AttachType,
  ProgramType,
  SECTION_DEFS,
  matchSection,
  sectionMatches,
  attachTypeName,
  programTypeFrom,
  programTypeName,
} from "../../src/object/index.js";

test("libbpf's pattern language: exact, x+ and x/", () => {
  assert.ok(sectionMatches("socket", "socket"));
  assert.ok(!sectionMatches("socket", "socket1"));
  assert.ok(sectionMatches("kprobe+", "kprobe"));
  assert.ok(sectionMatches("kprobe+", "kprobe/do_unlinkat"));
  assert.ok(!sectionMatches("kprobe+", "kprobex"));
  assert.ok(!sectionMatches("kprobe+", "kprobe.multi/x"));
  assert.ok(sectionMatches("cgroup/", "cgroup/x"));
  assert.ok(!sectionMatches("cgroup/", "cgroup/"));
  assert.ok(!sectionMatches("cgroup/", "cgroup"));
});

const cases: [string, ProgramType, AttachType | undefined, string, string[]?][] = [
  ["socket", ProgramType.SOCKET_FILTER, undefined, ""],
  ["sk_reuseport/migrate", ProgramType.SK_REUSEPORT, AttachType.SK_REUSEPORT_SELECT_OR_MIGRATE, ""],
  ["sk_reuseport", ProgramType.SK_REUSEPORT, AttachType.SK_REUSEPORT_SELECT, ""],
  ["xdp", ProgramType.XDP, AttachType.XDP, ""],
  ["xdp.frags", ProgramType.XDP, AttachType.XDP, "", ["xdp-frags"]],
  ["xdp/devmap", ProgramType.XDP, AttachType.XDP_DEVMAP, ""],
  ["xdp.frags/cpumap", ProgramType.XDP, AttachType.XDP_CPUMAP, "", ["xdp-frags"]],
  ["tc", ProgramType.SCHED_CLS, undefined, ""],
  ["classifier", ProgramType.SCHED_CLS, undefined, ""],
  ["action", ProgramType.SCHED_ACT, undefined, ""],
  ["tcx/ingress", ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, ""],
  ["tcx/egress", ProgramType.SCHED_CLS, AttachType.TCX_EGRESS, ""],
  ["tc/ingress", ProgramType.SCHED_CLS, AttachType.TCX_INGRESS, ""],
  ["netkit/primary", ProgramType.SCHED_CLS, AttachType.NETKIT_PRIMARY, ""],
  ["netkit/peer", ProgramType.SCHED_CLS, AttachType.NETKIT_PEER, ""],
  ["tracepoint/syscalls/sys_enter_openat", ProgramType.TRACEPOINT, undefined, "syscalls/sys_enter_openat"],
  ["tp/sched/sched_switch", ProgramType.TRACEPOINT, undefined, "sched/sched_switch"],
  ["raw_tracepoint/sys_enter", ProgramType.RAW_TRACEPOINT, undefined, "sys_enter"],
  ["raw_tp/sys_exit", ProgramType.RAW_TRACEPOINT, undefined, "sys_exit"],
  ["raw_tp.w/bpf_test_finish", ProgramType.RAW_TRACEPOINT_WRITABLE, undefined, "bpf_test_finish"],
  ["raw_tracepoint.w/x", ProgramType.RAW_TRACEPOINT_WRITABLE, undefined, "x"],
  ["tp_btf/sched_switch", ProgramType.TRACING, AttachType.TRACE_RAW_TP, "sched_switch", ["attach-btf"]],
  ["kprobe/do_unlinkat", ProgramType.KPROBE, undefined, "do_unlinkat"],
  ["kretprobe/do_unlinkat", ProgramType.KPROBE, undefined, "do_unlinkat", ["retprobe"]],
  ["kprobe.multi/tcp_*", ProgramType.KPROBE, AttachType.TRACE_KPROBE_MULTI, "tcp_*"],
  ["kretprobe.multi/tcp_*", ProgramType.KPROBE, AttachType.TRACE_KPROBE_MULTI, "tcp_*", ["retprobe"]],
  ["ksyscall/openat", ProgramType.KPROBE, undefined, "openat"],
  ["kretsyscall/openat", ProgramType.KPROBE, undefined, "openat", ["retprobe"]],
  ["uprobe/bin/bash:readline", ProgramType.KPROBE, undefined, "bin/bash:readline"],
  ["uprobe", ProgramType.KPROBE, undefined, ""],
  [
    "uretprobe.s/libc.so.6:malloc",
    ProgramType.KPROBE,
    undefined,
    "libc.so.6:malloc",
    ["retprobe", "sleepable"],
  ],
  ["uprobe.s/x", ProgramType.KPROBE, undefined, "x", ["sleepable"]],
  ["uprobe.multi/x:y*", ProgramType.KPROBE, AttachType.TRACE_UPROBE_MULTI, "x:y*"],
  [
    "uretprobe.multi.s/x:y",
    ProgramType.KPROBE,
    AttachType.TRACE_UPROBE_MULTI,
    "x:y",
    ["retprobe", "sleepable"],
  ],
  ["usdt/libc:probe", ProgramType.KPROBE, undefined, "libc:probe", ["usdt"]],
  ["fentry/do_unlinkat", ProgramType.TRACING, AttachType.TRACE_FENTRY, "do_unlinkat", ["attach-btf"]],
  ["fexit/do_unlinkat", ProgramType.TRACING, AttachType.TRACE_FEXIT, "do_unlinkat", ["attach-btf"]],
  ["fentry.s/x", ProgramType.TRACING, AttachType.TRACE_FENTRY, "x", ["attach-btf", "sleepable"]],
  ["fmod_ret/x", ProgramType.TRACING, AttachType.MODIFY_RETURN, "x", ["attach-btf"]],
  ["freplace/handler", ProgramType.EXT, undefined, "handler", ["attach-btf"]],
  ["lsm/file_open", ProgramType.LSM, AttachType.LSM_MAC, "file_open", ["attach-btf"]],
  ["lsm.s/bprm_check", ProgramType.LSM, AttachType.LSM_MAC, "bprm_check", ["attach-btf", "sleepable"]],
  ["lsm_cgroup/socket_bind", ProgramType.LSM, AttachType.LSM_CGROUP, "socket_bind", ["attach-btf"]],
  ["perf_event", ProgramType.PERF_EVENT, undefined, ""],
  ["iter/task", ProgramType.TRACING, AttachType.TRACE_ITER, "task", ["attach-btf"]],
  ["iter.s/task_file", ProgramType.TRACING, AttachType.TRACE_ITER, "task_file", ["attach-btf", "sleepable"]],
  ["syscall", ProgramType.SYSCALL, undefined, "", ["sleepable"]],
  ["cgroup_skb/ingress", ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, ""],
  ["cgroup_skb/egress", ProgramType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, ""],
  ["cgroup/skb", ProgramType.CGROUP_SKB, undefined, ""],
  ["cgroup/sock", ProgramType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, ""],
  ["cgroup/sock_create", ProgramType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, ""],
  ["cgroup/sock_release", ProgramType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_RELEASE, ""],
  ["cgroup/post_bind4", ProgramType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, ""],
  ["cgroup/post_bind6", ProgramType.CGROUP_SOCK, AttachType.CGROUP_INET6_POST_BIND, ""],
  ["cgroup/bind4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, ""],
  ["cgroup/bind6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND, ""],
  ["cgroup/connect4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, ""],
  ["cgroup/connect6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, ""],
  ["cgroup/connect_unix", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_CONNECT, ""],
  ["cgroup/sendmsg4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG, ""],
  ["cgroup/sendmsg6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG, ""],
  ["cgroup/sendmsg_unix", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_SENDMSG, ""],
  ["cgroup/recvmsg4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_RECVMSG, ""],
  ["cgroup/recvmsg6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_RECVMSG, ""],
  ["cgroup/recvmsg_unix", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UNIX_RECVMSG, ""],
  ["cgroup/getpeername4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETPEERNAME, ""],
  ["cgroup/getpeername6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETPEERNAME, ""],
  ["cgroup/getsockname4", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_GETSOCKNAME, ""],
  ["cgroup/getsockname6", ProgramType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_GETSOCKNAME, ""],
  ["cgroup/sysctl", ProgramType.CGROUP_SYSCTL, AttachType.CGROUP_SYSCTL, ""],
  ["cgroup/getsockopt", ProgramType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT, ""],
  ["cgroup/setsockopt", ProgramType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT, ""],
  ["cgroup/dev", ProgramType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE, ""],
  ["sockops", ProgramType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS, ""],
  ["sk_skb", ProgramType.SK_SKB, undefined, ""],
  ["sk_skb/stream_parser", ProgramType.SK_SKB, AttachType.SK_SKB_STREAM_PARSER, ""],
  ["sk_skb/stream_verdict", ProgramType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT, ""],
  ["sk_msg", ProgramType.SK_MSG, AttachType.SK_MSG_VERDICT, ""],
  ["sk_lookup", ProgramType.SK_LOOKUP, AttachType.SK_LOOKUP, ""],
  ["flow_dissector", ProgramType.FLOW_DISSECTOR, AttachType.FLOW_DISSECTOR, ""],
  ["lwt_in", ProgramType.LWT_IN, undefined, ""],
  ["lwt_out", ProgramType.LWT_OUT, undefined, ""],
  ["lwt_xmit", ProgramType.LWT_XMIT, undefined, ""],
  ["lwt_seg6local", ProgramType.LWT_SEG6LOCAL, undefined, ""],
  ["struct_ops/tcp_ca_init", ProgramType.STRUCT_OPS, undefined, "tcp_ca_init"],
  ["struct_ops.s/x", ProgramType.STRUCT_OPS, undefined, "x", ["sleepable"]],
  ["netfilter", ProgramType.NETFILTER, AttachType.NETFILTER, ""],
  ["prog", ProgramType.KPROBE, undefined, "", ["legacy"]],
];

test("section names map to libbpf's program and attach types", () => {
  for (const [section, type, attach, attachTo, flags] of cases) {
    const m = matchSection(section);
    assert.ok(m, `${section} matches a row`);
    assert.equal(programTypeName(m.def.programType), programTypeName(type), `${section}: program type`);
    assert.equal(m.def.attachType, attach, `${section}: attach type`);
    assert.equal(m.attachTo, attachTo, `${section}: attach target`);
    for (const f of flags ?? []) assert.ok(m.def.flags.includes(f as never), `${section}: flag ${f}`);
  }
});

test("unknown and malformed sections match nothing", () => {
  for (const s of [
    "",
    "my_custom_hook",
    "xdp_prog",
    "kprobe_x",
    "cgroup/unknown",
    "tcx",
    "socket/1",
    ".text",
    "maps",
  ])
    assert.equal(matchSection(s), undefined, s);
});

test("more specific rows come before the rows that would shadow them", () => {
  // A row is shadowed when an earlier row matches every section the later one matches.
  const sample = (p: string): string => (p.endsWith("+") ? p.slice(0, -1) : p.endsWith("/") ? `${p}x` : p);
  SECTION_DEFS.forEach((row, i) => {
    const first = matchSection(sample(row.pattern));
    assert.equal(first?.def, row, `row ${i} '${row.pattern}' is reachable`);
  });
});

test("type numbers follow the kernel's enums and names", () => {
  assert.equal(ProgramType.NETFILTER, 32);
  assert.equal(AttachType.TRACE_UPROBE_SESSION, 57);
  assert.equal(attachTypeName(AttachType.CGROUP_INET_INGRESS), "cgroup_inet_ingress");
  assert.equal(programTypeFrom("sched_cls"), ProgramType.SCHED_CLS);
  assert.equal(programTypeFrom(6), ProgramType.XDP);
  assert.equal(programTypeFrom("nope"), undefined);
  assert.equal(programTypeName(99), "unknown(99)");
});
