// Scenario from the "eBPF のはじめかた" talk, rebuilt on a stable tracepoint instead of
// kprobes on tcp_v4_connect: sock:inet_sock_set_state reports TCP state changes. SYN_SENT records
// the start time per socket; SYN_SENT -> ESTABLISHED emits an event (pid, comm, addresses,
// destination port, connect latency) through a perf event array, like BCC's BPF_PERF_OUTPUT.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define IPPROTO_TCP 6
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

struct connect_start {
	__u64 ts;
	__u32 pid;
	char comm[16];
};

struct connect_event {
	__u32 pid;
	char comm[16];
	__u8 saddr[4];
	__u8 daddr[4];
	__u16 dport;
	__u64 latency_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, const void *);
	__type(value, struct connect_start);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} connect_events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_connect_tracer(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const void *sk = ctx->skaddr;
	struct connect_start *start, s = {};
	struct connect_event e = {};

	if (ctx->protocol != IPPROTO_TCP || ctx->family != AF_INET)
		return 0;
	if (ctx->newstate == TCP_SYN_SENT) {
		/* connect() runs in the caller's context: pid and comm are the connecting process */
		s.ts = bpf_ktime_get_ns();
		s.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(s.comm, sizeof(s.comm));
		bpf_map_update_elem(&connecting, &sk, &s, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	start = bpf_map_lookup_elem(&connecting, &sk);
	if (!start)
		return 0;
	if (ctx->newstate == TCP_ESTABLISHED) {
		e.pid = start->pid;
		__builtin_memcpy(e.comm, start->comm, sizeof(e.comm));
		__builtin_memcpy(e.saddr, ctx->saddr, 4);
		__builtin_memcpy(e.daddr, ctx->daddr, 4);
		e.dport = ctx->dport;
		e.latency_ns = bpf_ktime_get_ns() - start->ts;
		bpf_perf_event_output(ctx, &connect_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	}
	bpf_map_delete_elem(&connecting, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
