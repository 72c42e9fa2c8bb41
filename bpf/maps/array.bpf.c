// BPF_MAP_TYPE_ARRAY: slot 0 counts packets, slot 1 sums their lengths (atomic adds on map values).
#include "include/tsbpf_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} packet_stats SEC(".maps");

SEC("xdp")
int array_count(struct xdp_md *ctx)
{
	__u32 packets = 0, bytes = 1;
	__u64 *v;

	v = bpf_map_lookup_elem(&packet_stats, &packets);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&packet_stats, &bytes);
	if (v)
		__sync_fetch_and_add(v, ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
