// BPF_MAP_TYPE_LRU_HASH: inserting 8 keys into a 4-entry LRU map evicts old ones but never fails;
// returns 1 when the most recent key is present, the map never rejected an insert, and
// bpf_map_delete_elem then removes it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} recent SEC(".maps");

SEC("syscall")
int lru_hash_evict(void *ctx)
{
	__u32 i, k, v, *found;

	for (i = 0; i < 8; i++) {
		k = i;
		v = i * 10;
		if (bpf_map_update_elem(&recent, &k, &v, BPF_ANY))
			return 0;
	}
	k = 7;
	found = bpf_map_lookup_elem(&recent, &k);
	if (!found || *found != 70)
		return 0;
	k = 6;
	return bpf_map_delete_elem(&recent, &k) == 0 && !bpf_map_lookup_elem(&recent, &k);
}

char LICENSE[] SEC("license") = "GPL";
