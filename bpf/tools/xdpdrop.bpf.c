// SPDX-License-Identifier: GPL-2.0
/* xdpdrop: the guides' XDP program: drops IPv4 ICMP, passes everything else, and counts both
 * per CPU (stats[0] = passed, stats[1] = dropped: packets and bytes). The same object runs in
 * the kernel (attached to an interface) and in the userspace VM over a pcap file. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct counter);
} stats SEC(".maps");

static __always_inline int count(struct xdp_md *ctx, __u32 verdict_slot, int action)
{
	struct counter *c = bpf_map_lookup_elem(&stats, &verdict_slot);

	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return action;
}

SEC("xdp")
int icmp_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;

	if ((void *)(eth + 1) > data_end)
		return count(ctx, 0, XDP_PASS);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return count(ctx, 0, XDP_PASS);
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return count(ctx, 0, XDP_PASS);
	if (iph->protocol == IPPROTO_ICMP)
		return count(ctx, 1, XDP_DROP);
	return count(ctx, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
