// BPF_MAP_TYPE_BLOOM_FILTER (no key): push adds a value, peek tests membership (0 = maybe
// present, -ENOENT = definitely absent). Adds 1..16, then returns how many of 1..16 are found
// (16: no false negatives) times 100, plus 1 when the never-added 0xdeadbeef is reported absent.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__uint(map_extra, 3); /* number of hash functions */
	__type(value, __u32);
} seen SEC(".maps");

/* XDP, not syscall: sleepable programs may not use bloom filters. */
SEC("xdp")
int bloom_membership(struct xdp_md *ctx)
{
	__u32 i, v, found = 0;

	for (i = 1; i <= 16; i++) {
		v = i;
		bpf_map_push_elem(&seen, &v, BPF_ANY);
	}
	for (i = 1; i <= 16; i++) {
		v = i;
		if (bpf_map_peek_elem(&seen, &v) == 0)
			found++;
	}
	v = 0xdeadbeef;
	return found * 100 + (bpf_map_peek_elem(&seen, &v) != 0);
}

char LICENSE[] SEC("license") = "GPL";
