// Scenario from the "eBPF のはじめかた" talk: an XDP program that drops ICMP (ping) and passes
// everything else. Per-action packet counters (index = XDP action) make a pcap run checkable:
// bpf/testdata/pings-and-udp.pcap has 6 ICMP frames (dropped) and 4 UDP/TCP frames (passed).
#include "include/tsbpf_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5); /* XDP_ABORTED .. XDP_REDIRECT */
	__type(key, __u32);
	__type(value, __u64);
} action_count SEC(".maps");

static __always_inline int count(__u32 action)
{
	__u64 *n = bpf_map_lookup_elem(&action_count, &action);

	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

SEC("xdp")
int xdp_drop_icmp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;

	if (data + sizeof(*eth) > data_end)
		return count(XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = data + sizeof(*eth);
		if ((void *)(iph + 1) > data_end)
			return count(XDP_PASS);
		if (iph->protocol == IPPROTO_ICMP)
			return count(XDP_DROP);
	}
	return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
