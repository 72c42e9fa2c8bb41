/* Packet-parsing helpers shared by the networking programs (uapi headers only, no vmlinux.h). */
#ifndef TSBPF_NET_H
#define TSBPF_NET_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/icmp.h drags in glibc headers, so the ICMP header is spelled out here. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/* Pointer to a header of type T at data + off, or NULL when it does not fit before data_end. */
#define HDR_AT(T, data, data_end, off)                                                   \
	({                                                                                 \
		T *___h = (T *)((void *)(data) + (off));                                   \
		((void *)(___h + 1) > (void *)(data_end)) ? (T *)0 : ___h;                 \
	})

#endif
