// Scenario from the eNetSTL chapter: a blocked cuckoo hash table of IPv4 flow counters written in
// plain eBPF C (no kfuncs). A key lives in one of two buckets (two hash functions), each bucket
// has SLOTS entries. Insertion into two full buckets evicts a victim and moves it to its other
// bucket, at most MAX_KICKS times. The table is one array-map value; the packet's flow count
// after the update goes to .bss (returns XDP_PASS, or XDP_DROP when the table is full).
#include "include/tsbpf_net.h"

#define BUCKETS 64 /* power of two */
#define SLOTS 4
#define MAX_KICKS 8

struct cuckoo_key {
	__u32 saddr, daddr;
};

struct cuckoo_slot {
	struct cuckoo_key key;
	__u64 count; /* 0 = empty */
};

struct cuckoo_table {
	struct cuckoo_slot buckets[BUCKETS][SLOTS];
	__u32 kicks;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cuckoo_table);
} flow_table SEC(".maps");

__u64 last_count;

static __always_inline __u32 hash1(const struct cuckoo_key *k)
{
	return ((k->saddr * 0x9e3779b1) ^ (k->daddr * 0x85ebca6b)) >> 7;
}

static __always_inline __u32 hash2(const struct cuckoo_key *k)
{
	return ((k->daddr * 0xc2b2ae35) ^ (k->saddr * 0x27d4eb2f)) >> 11;
}

static __always_inline int same(const struct cuckoo_key *a, const struct cuckoo_key *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr;
}

/* Increments an existing entry of bucket b; returns its new count or 0. */
static __always_inline __u64 bump(struct cuckoo_table *t, __u32 b, const struct cuckoo_key *k)
{
	int i;

	for (i = 0; i < SLOTS; i++) {
		struct cuckoo_slot *s = &t->buckets[b & (BUCKETS - 1)][i];

		if (s->count && same(&s->key, k))
			return ++s->count;
	}
	return 0;
}

/* Puts (k, count) in a free slot of bucket b; returns 1 on success. */
static __always_inline int place(struct cuckoo_table *t, __u32 b, const struct cuckoo_key *k, __u64 count)
{
	int i;

	for (i = 0; i < SLOTS; i++) {
		struct cuckoo_slot *s = &t->buckets[b & (BUCKETS - 1)][i];

		if (!s->count) {
			s->key = *k;
			s->count = count;
			return 1;
		}
	}
	return 0;
}

static int insert(struct cuckoo_table *t, struct cuckoo_key key)
{
	struct cuckoo_slot victim;
	__u64 count = 1;
	__u32 b = hash1(&key);
	int kick;

	for (kick = 0; kick < MAX_KICKS; kick++) {
		if (place(t, hash1(&key), &key, count) || place(t, hash2(&key), &key, count))
			return 1;
		/* evict the slot chosen by the kick number from bucket b, put the key there */
		victim = t->buckets[b & (BUCKETS - 1)][kick & (SLOTS - 1)];
		t->buckets[b & (BUCKETS - 1)][kick & (SLOTS - 1)].key = key;
		t->buckets[b & (BUCKETS - 1)][kick & (SLOTS - 1)].count = count;
		t->kicks++;
		key = victim.key;
		count = victim.count;
		/* the victim moves to its other bucket */
		b = (hash1(&key) & (BUCKETS - 1)) == (b & (BUCKETS - 1)) ? hash2(&key) : hash1(&key);
	}
	return 0; /* the last victim is lost: the table is too full */
}

SEC("xdp")
int cuckoo_hash(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct cuckoo_key key = {};
	struct cuckoo_table *t;
	struct iphdr *ip;
	__u32 zero = 0;
	__u64 n;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return XDP_PASS;
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	t = bpf_map_lookup_elem(&flow_table, &zero);
	if (!t)
		return XDP_ABORTED;
	n = bump(t, hash1(&key), &key);
	if (!n)
		n = bump(t, hash2(&key), &key);
	if (!n) {
		if (!insert(t, key))
			return XDP_DROP;
		n = 1;
	}
	last_count = n;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
