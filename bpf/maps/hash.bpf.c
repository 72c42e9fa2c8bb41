// BPF_MAP_TYPE_HASH: packets per IPv4 protocol; first packet inserts with BPF_NOEXIST, later ones add.
#include "include/tsbpf_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

SEC("xdp")
int hash_count_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct iphdr *ip;
	__u64 one = 1, *v;
	__u32 key;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return XDP_PASS;
	key = ip->protocol;
	v = bpf_map_lookup_elem(&proto_count, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&proto_count, &key, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
