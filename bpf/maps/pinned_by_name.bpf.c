// A BTF-defined map with __uint(pinning, LIBBPF_PIN_BY_NAME): libbpf pins it as
// <pin root>/tsbpf_pinned_hits (default root /sys/fs/bpf) and reuses an existing pin on the
// next load, so counts survive reloading the program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tsbpf_pinned_hits SEC(".maps");

SEC("syscall")
int pinned_hit(void *ctx)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&tsbpf_pinned_hits, &key);

	if (!hits)
		return -1;
	return __sync_add_and_fetch(hits, 1);
}

char LICENSE[] SEC("license") = "GPL";
