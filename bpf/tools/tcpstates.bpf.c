// SPDX-License-Identifier: GPL-2.0
/* tcpstates: every TCP state change with the time spent in the previous state, through
 * sock:inet_sock_set_state, as libbpf-tools' tcpstates. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tcp_common.h"

const volatile short target_family = 0;
const volatile __u16 filter_sport = 0;
const volatile __u16 filter_dport = 0;

__u64 lost = 0;

struct event {
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 skaddr;
	__u64 ts_us;
	__u64 delta_us;
	__u32 pid;
	int oldstate;
	int newstate;
	__u16 family;
	__u16 sport;
	__u16 dport;
	char task[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} timestamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	__u16 family = ctx->family, sport = ctx->sport, dport = ctx->dport;
	__u64 *tsp, delta_us, ts;
	struct event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (target_family && target_family != family)
		return 0;
	if (filter_sport && sport != filter_sport)
		return 0;
	if (filter_dport && dport != filter_dport)
		return 0;

	tsp = bpf_map_lookup_elem(&timestamps, &sk);
	ts = bpf_ktime_get_ns();
	delta_us = tsp ? (ts - *tsp) / 1000 : 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->skaddr = sk;
		e->ts_us = ts / 1000;
		e->delta_us = delta_us;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->oldstate = ctx->oldstate;
		e->newstate = ctx->newstate;
		e->family = family;
		e->sport = sport;
		e->dport = dport;
		bpf_get_current_comm(&e->task, sizeof(e->task));
		copy_addrs(ctx, e->saddr, e->daddr);
		bpf_ringbuf_submit(e, 0);
	} else {
		__sync_fetch_and_add(&lost, 1);
	}

	if (ctx->newstate == TCP_CLOSE)
		bpf_map_delete_elem(&timestamps, &sk);
	else
		bpf_map_update_elem(&timestamps, &sk, &ts, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
