// BPF_MAP_TYPE_ARRAY_OF_MAPS with an inner map template (__array(values, ...)) and initial values:
// slot 0 -> inner_even, slot 1 -> inner_odd. The program counts each packet in the inner map
// chosen by the parity of the packet length.
#include "include/tsbpf_net.h"

struct inner_counter {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_counter inner_even SEC(".maps");
struct inner_counter inner_odd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_counter);
} by_parity SEC(".maps") = {
	.values = { &inner_even, &inner_odd },
};

SEC("xdp")
int array_of_maps_count(struct xdp_md *ctx)
{
	__u32 parity = (ctx->data_end - ctx->data) & 1, zero = 0;
	__u64 *count;
	void *inner;

	inner = bpf_map_lookup_elem(&by_parity, &parity);
	if (!inner)
		return XDP_ABORTED;
	count = bpf_map_lookup_elem(inner, &zero);
	if (!count)
		return XDP_ABORTED;
	__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
