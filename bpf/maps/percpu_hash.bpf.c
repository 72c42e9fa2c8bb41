// BPF_MAP_TYPE_PERCPU_HASH: per-CPU byte count keyed by EtherType.
#include "include/tsbpf_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} bytes_by_ethertype SEC(".maps");

SEC("xdp")
int percpu_hash_bytes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	__u64 len = data_end - data, *v;
	__u32 key;

	if (!eth)
		return XDP_ABORTED;
	key = bpf_ntohs(eth->h_proto);
	v = bpf_map_lookup_elem(&bytes_by_ethertype, &key);
	if (v)
		*v += len;
	else
		bpf_map_update_elem(&bytes_by_ethertype, &key, &len, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
