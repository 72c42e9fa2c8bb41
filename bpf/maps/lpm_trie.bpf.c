// BPF_MAP_TYPE_LPM_TRIE: longest-prefix match of the IPv4 destination. The program installs
// 10.0.0.0/8 -> 8 and 10.1.0.0/16 -> 16 itself, then looks the packet up; the matched prefix
// length lands in matched_prefix. Unrouted packets are dropped.
#include "include/tsbpf_net.h"

struct ipv4_lpm_key {
	__u32 prefixlen;
	__u32 addr; /* network byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipv4_lpm_key);
	__type(value, __u32);
} routes SEC(".maps");

__u32 matched_prefix = 0;

static void add_route(__u32 addr_host, __u32 prefixlen)
{
	struct ipv4_lpm_key key = { .prefixlen = prefixlen, .addr = bpf_htonl(addr_host) };

	bpf_map_update_elem(&routes, &key, &prefixlen, BPF_ANY);
}

SEC("xdp")
int lpm_route(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct ipv4_lpm_key key = { .prefixlen = 32 };
	struct iphdr *ip;
	__u32 *prefix;

	add_route(0x0a000000, 8);
	add_route(0x0a010000, 16);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return XDP_PASS;
	key.addr = ip->daddr;
	prefix = bpf_map_lookup_elem(&routes, &key);
	if (!prefix)
		return XDP_DROP;
	matched_prefix = *prefix;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
