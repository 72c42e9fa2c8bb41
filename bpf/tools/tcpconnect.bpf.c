// SPDX-License-Identifier: GPL-2.0
// tsbpf: -D__TARGET_ARCH_x86
/* tcpconnect: active TCP connections (the guides' connection tracer), with the container
 * extension (PID namespace level and UTS nodename of the caller). Two hooks, chosen at start:
 *  - kprobe/kretprobe on tcp_v4_connect and tcp_v6_connect (BCC's hook: the socket is stashed
 *    per thread at entry, reported at return when the connect did not fail);
 *  - tracepoint sock:inet_sock_set_state at CLOSE -> SYN_SENT (kernels without kprobes). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "container.h"
#include "tcp_common.h"

const volatile pid_t filter_pid = 0;
const volatile uid_t filter_uid = (uid_t)-1;
const volatile short filter_family = 0;
const volatile bool containers_only = false;

__u64 lost = 0;

struct event {
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 ts_us;
	__u32 pid;
	__u32 uid;
	__u16 family;
	__u16 dport;
	char comm[TASK_COMM_LEN];
	struct container_info container;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sock *);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline bool filtered(__u32 pid, __u32 uid, __u16 family)
{
	if (filter_pid && pid != filter_pid)
		return true;
	if (filter_uid != (uid_t)-1 && uid != filter_uid)
		return true;
	if (filter_family && family != filter_family)
		return true;
	return false;
}

/* Fills and sends the event; the addresses are copied by the caller-specific `fill`. */
static __always_inline struct event *reserve_event(__u16 family)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct event *e;

	if (filtered(pid, uid, family))
		return NULL;
	if (containers_only &&
	    task_pidns_level((struct task_struct *)bpf_get_current_task()) == 0)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	e->ts_us = bpf_ktime_get_ns() / 1000;
	e->pid = pid;
	e->uid = uid;
	e->family = family;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	fill_current_container(&e->container);
	return e;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct event *e;

	if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT)
		return 0;
	e = reserve_event(ctx->family);
	if (!e)
		return 0;
	e->dport = ctx->dport;
	copy_addrs(ctx, e->saddr, e->daddr);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int enter_connect(struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sockets, &tid, &sk, BPF_ANY);
	return 0;
}

static __always_inline int exit_connect(int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sock **skpp = bpf_map_lookup_elem(&sockets, &tid);
	struct sock *sk;
	struct event *e;
	__u16 family;

	if (!skpp)
		return 0;
	sk = *skpp;
	bpf_map_delete_elem(&sockets, &tid);
	if (ret)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e = reserve_event(family);
	if (!e)
		return 0;
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* Sized by the field, not by the destination: BPF_CORE_READ_INTO would copy
	 * sizeof(*e->saddr), one byte. */
	if (family == AF_INET) {
		bpf_core_read(e->saddr, sizeof(sk->__sk_common.skc_rcv_saddr), &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, sizeof(sk->__sk_common.skc_daddr), &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, sizeof(sk->__sk_common.skc_v6_rcv_saddr),
			      &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, sizeof(sk->__sk_common.skc_v6_daddr), &sk->__sk_common.skc_v6_daddr);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect, struct sock *sk)
{
	return enter_connect(sk);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(tcp_v4_connect_ret, int ret)
{
	return exit_connect(ret);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(tcp_v6_connect, struct sock *sk)
{
	return enter_connect(sk);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(tcp_v6_connect_ret, int ret)
{
	return exit_connect(ret);
}

char LICENSE[] SEC("license") = "GPL";
