// BPF_MAP_TYPE_HASH_OF_MAPS: per-protocol inner hash maps (TCP -> tcp_ports, UDP -> udp_ports),
// installed as initial values; the program counts destination ports in the matching inner map.
#include "include/tsbpf_net.h"

struct port_counts {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u64);
};

struct port_counts tcp_ports SEC(".maps");
struct port_counts udp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct port_counts);
} ports_by_proto SEC(".maps") = {
	.values = { [IPPROTO_TCP] = &tcp_ports, [IPPROTO_UDP] = &udp_ports },
};

SEC("xdp")
int hash_of_maps_ports(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct iphdr *ip;
	struct udphdr *l4; /* source/dest are at the same offsets in TCP and UDP */
	__u64 one = 1, *count;
	__u32 proto;
	__u16 port;
	void *inner;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip || ip->ihl != 5)
		return XDP_PASS;
	l4 = HDR_AT(struct udphdr, data, data_end, sizeof(*eth) + sizeof(*ip));
	if (!l4)
		return XDP_PASS;
	proto = ip->protocol;
	inner = bpf_map_lookup_elem(&ports_by_proto, &proto);
	if (!inner)
		return XDP_PASS;
	port = bpf_ntohs(l4->dest);
	count = bpf_map_lookup_elem(inner, &port);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(inner, &port, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
