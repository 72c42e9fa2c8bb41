// SPDX-License-Identifier: GPL-2.0
// tsbpf: -D__TARGET_ARCH_x86
// Scenario from the "eBPF のはじめかた" talk, built as the talk builds it: a kprobe on
// tcp_v4_connect stashes the socket in a hash map keyed by pid (BPF_HASH(socklist, u32,
// struct sock *)), the kretprobe takes it back, reads the addresses and the port and sends a
// data_t to user space through a perf buffer (BPF_PERF_OUTPUT(events)). With the talk's
// container extension: every event carries the PID namespace level and the UTS nodename of the
// caller, and containers_only drops callers in the root PID namespace (pidns->level == 0).
// Its front end is examples/tcp-connect.ts (the talk's Python, in TypeScript).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define TASK_COMM_LEN 16
#define NODENAME_LEN 65

const volatile bool containers_only = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct sock *);
} socklist SEC(".maps");

/* 104 bytes: pid 0, comm 4, saddr 20, daddr 24, dport 28, pidns_level 32, nodename 36. */
struct data_t {
	__u32 pid;
	char comm[TASK_COMM_LEN];
	__u32 saddr;
	__u32 daddr;
	__u16 dport;
	__u32 pidns_level;
	char nodename[NODENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_connect, struct sock *sock)
{
	/* The talk's key: the lower half of pid_tgid, i.e. the calling thread, which is what
	 * pairs an entry with its return. */
	__u32 pid = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&socklist, &pid, &sock, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(tcp_connect_ret)
{
	__u32 pid = bpf_get_current_pid_tgid();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct data_t data = {};
	struct sock **sock, *sockp;

	sock = bpf_map_lookup_elem(&socklist, &pid);
	if (!sock)
		return 0;
	sockp = *sock;
	/* Unlike the talk, removed before the container check: a skipped entry must not stay. */
	bpf_map_delete_elem(&socklist, &pid);

	/* The talk's reads: task->nsproxy->pid_ns_for_children->level and ->uts_ns->name.nodename. */
	data.pidns_level = BPF_CORE_READ(task, nsproxy, pid_ns_for_children, level);
	if (containers_only && data.pidns_level == 0)
		return 0;
	BPF_CORE_READ_STR_INTO(&data.nodename, task, nsproxy, uts_ns, name.nodename);

	data.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&data.comm, sizeof(data.comm));
	data.saddr = BPF_CORE_READ(sockp, __sk_common.skc_rcv_saddr);
	data.daddr = BPF_CORE_READ(sockp, __sk_common.skc_daddr);
	data.dport = bpf_ntohs(BPF_CORE_READ(sockp, __sk_common.skc_dport));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
