// BPF_MAP_TYPE_LRU_PERCPU_HASH: per-CPU flow counters keyed by IPv4 source address.
#include "include/tsbpf_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} flows_by_saddr SEC(".maps");

SEC("xdp")
int lru_percpu_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct iphdr *ip;
	__u64 one = 1, *v;
	__u32 saddr;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return XDP_PASS;
	saddr = ip->saddr;
	v = bpf_map_lookup_elem(&flows_by_saddr, &saddr);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&flows_by_saddr, &saddr, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
