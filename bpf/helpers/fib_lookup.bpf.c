// bpf_fib_lookup from XDP: asks the kernel's IPv4 routing table for the next hop of the packet's
// destination and returns XDP_PASS; the lookup result code and egress ifindex go to .bss
// (they depend on the host's routes, so the expected values are not part of the manifest).
#include "include/tsbpf_net.h"

#ifndef AF_INET
#define AF_INET 2
#endif

long fib_result = -1;
__u32 fib_ifindex;

SEC("xdp")
int xdp_fib_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return XDP_PASS;
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	fib_result = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	fib_ifindex = fib.ifindex;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
