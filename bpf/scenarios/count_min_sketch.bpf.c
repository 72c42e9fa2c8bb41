// Scenario from the eNetSTL chapter: a count-min sketch of IPv4 flows written in plain eBPF C.
// ROWS hash functions (seeded multiplicative hashes of the 5-tuple) each pick a column in their row;
// an update increments one counter per row, the estimate is the minimum of those counters (it never
// under-counts). The sketch is one array-map value; the flow's estimate after the update goes to .bss.
#include "include/tsbpf_net.h"

#define ROWS 4
#define COLS 256 /* power of two */

struct cm_sketch {
	__u32 cm[ROWS][COLS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cm_sketch);
} sketch SEC(".maps");

struct flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

__u32 last_estimate;

static const __u32 seeds[ROWS] = { 0x9e3779b1, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f };

/* murmur3-style finalised mix of the four 32-bit words of the flow with a per-row seed */
static __always_inline __u32 flow_hash(const struct flow *f, __u32 seed)
{
	__u32 h = seed, words[4] = { f->saddr, f->daddr, ((__u32)f->sport << 16) | f->dport, f->proto };
	int i;

	for (i = 0; i < 4; i++) {
		h ^= words[i] * 0xcc9e2d51;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64;
	}
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

SEC("xdp")
int count_min_sketch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct flow f = {};
	struct iphdr *ip;
	struct udphdr *l4;
	struct cm_sketch *s;
	__u32 zero = 0, min = ~0U, row, col, v;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip || ip->ihl != 5)
		return XDP_PASS;
	f.saddr = ip->saddr;
	f.daddr = ip->daddr;
	f.proto = ip->protocol;
	if (ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_TCP) {
		l4 = HDR_AT(struct udphdr, data, data_end, sizeof(*eth) + sizeof(*ip));
		if (!l4)
			return XDP_PASS;
		f.sport = bpf_ntohs(l4->source);
		f.dport = bpf_ntohs(l4->dest);
	}
	s = bpf_map_lookup_elem(&sketch, &zero);
	if (!s)
		return XDP_ABORTED;
	for (row = 0; row < ROWS; row++) {
		col = flow_hash(&f, seeds[row]) & (COLS - 1);
		v = __sync_add_and_fetch(&s->cm[row][col], 1);
		if (v < min)
			min = v;
	}
	last_estimate = min;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
