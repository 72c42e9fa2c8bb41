// SPDX-License-Identifier: GPL-2.0
/* netstat: the TCP socket table of the current network namespace read by a TCP iterator
 * (iter/tcp, 5.9), one binary record per socket (listening, established, request and
 * time-wait sockets, IPv4 and IPv6), with what /proc/net/tcp shows: the eBPFmonitor paper's
 * socket list design. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define TCP_TIME_WAIT 6
#define TCP_NEW_SYN_RECV 12

struct sock_rec {
	__u16 family;
	__u8 state;
	__u8 pad;
	__u16 sport;	/* host order */
	__u16 dport;	/* host order */
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 uid;
	__u32 rx_queue;
	__u32 tx_queue;
	__u32 pad2;
	__u64 inode;
};

SEC("iter/tcp")
int netstat_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock_rec r = {};
	struct tcp_sock *tp;

	if (!skc)
		return 0;
	r.family = skc->skc_family;
	r.state = skc->skc_state;
	r.sport = skc->skc_num;
	r.dport = bpf_ntohs(skc->skc_dport);
	r.uid = ctx->uid;
	if (r.family == AF_INET) {
		__builtin_memcpy(r.saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r.daddr, &skc->skc_daddr, 4);
	} else if (r.family == AF_INET6) {
		BPF_CORE_READ_INTO(&r.saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&r.daddr, skc, skc_v6_daddr.in6_u.u6_addr8);
	}
	if (r.state != TCP_TIME_WAIT && r.state != TCP_NEW_SYN_RECV) {
		tp = bpf_skc_to_tcp_sock(skc);
		if (tp) {
			struct socket *sock = tp->inet_conn.icsk_inet.sk.sk_socket;

			/* listeners keep their accept backlog in sk_ack_backlog */
			if (r.state == 10 /* TCP_LISTEN */)
				r.rx_queue = tp->inet_conn.icsk_inet.sk.sk_ack_backlog;
			else
				r.rx_queue = tp->rcv_nxt - tp->copied_seq;
			r.tx_queue = tp->write_seq - tp->snd_una;
			if (sock) {
				struct socket_alloc *sa = container_of(sock, struct socket_alloc, socket);

				r.inode = BPF_CORE_READ(sa, vfs_inode.i_ino);
			}
		}
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
