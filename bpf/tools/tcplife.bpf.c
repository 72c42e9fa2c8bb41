// SPDX-License-Identifier: GPL-2.0
/* tcplife: one line per closed TCP session (pid, comm, ports, bytes, duration) through
 * sock:inet_sock_set_state, as BCC's and libbpf-tools' tcplife: birth time at the first state
 * below FIN_WAIT1, the owner at SYN_SENT/LAST_ACK, bytes from struct tcp_sock at CLOSE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tcp_common.h"

const volatile pid_t target_pid = 0;
const volatile short target_family = 0;
const volatile __u16 target_sport = 0;
const volatile __u16 target_dport = 0;

__u64 lost = 0;

struct ident {
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

struct event {
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 ts_us;
	__u64 span_us;
	__u64 rx_b;
	__u64 tx_b;
	__u32 pid;
	__u16 sport;
	__u16 dport;
	__u16 family;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct sock *);
	__type(value, __u64);
} birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct sock *);
	__type(value, struct ident);
} idents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *args)
{
	struct sock *sk = (struct sock *)args->skaddr;
	__u16 family = args->family, sport = args->sport, dport = args->dport;
	/* Read once: clang would otherwise keep a pointer into the context, which the verifier refuses. */
	int newstate = args->newstate;
	barrier_var(newstate);
	__u64 ts, *start, delta_us;
	struct ident ident = {}, *identp;
	struct event *e;
	__u32 pid;

	if (args->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && family != target_family)
		return 0;
	if (target_sport && sport != target_sport)
		return 0;
	if (target_dport && dport != target_dport)
		return 0;

	if (newstate < TCP_FIN_WAIT1) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&birth, &sk, &ts, BPF_ANY);
	}
	if (newstate == TCP_SYN_SENT || newstate == TCP_LAST_ACK) {
		pid = bpf_get_current_pid_tgid() >> 32;
		if (target_pid && pid != target_pid)
			return 0;
		ident.pid = pid;
		bpf_get_current_comm(ident.comm, sizeof(ident.comm));
		bpf_map_update_elem(&idents, &sk, &ident, BPF_ANY);
	}
	if (newstate != TCP_CLOSE)
		return 0;

	start = bpf_map_lookup_elem(&birth, &sk);
	if (!start) {
		bpf_map_delete_elem(&idents, &sk);
		return 0;
	}
	ts = bpf_ktime_get_ns();
	delta_us = (ts - *start) / 1000;
	identp = bpf_map_lookup_elem(&idents, &sk);
	pid = identp ? identp->pid : bpf_get_current_pid_tgid() >> 32;
	if (target_pid && pid != target_pid)
		goto cleanup;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		goto cleanup;
	}
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	e->rx_b = BPF_CORE_READ(tp, bytes_received);
	e->tx_b = BPF_CORE_READ(tp, bytes_acked);
	e->ts_us = ts / 1000;
	e->span_us = delta_us;
	e->pid = pid;
	e->sport = sport;
	e->dport = dport;
	e->family = family;
	if (identp)
		__builtin_memcpy(e->comm, identp->comm, sizeof(e->comm));
	else
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	copy_addrs(args, e->saddr, e->daddr);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&birth, &sk);
	bpf_map_delete_elem(&idents, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
