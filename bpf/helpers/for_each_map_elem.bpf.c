// bpf_for_each_map_elem: fill an 8-slot array with i*i, then visit it with a callback that sums
// the values and stops (returns 1) after index 4. Returns visited * 1000 + sum = 5*1000 + 30 = 5030.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} squares SEC(".maps");

struct sum_ctx {
	__u64 sum;
};

static long add_value(void *map, __u32 *key, __u64 *value, struct sum_ctx *ctx)
{
	ctx->sum += *value;
	return *key == 4; /* 1 stops the iteration */
}

SEC("syscall")
int for_each_sum(void *ctx)
{
	struct sum_ctx c = { 0 };
	__u32 i, key;
	__u64 v;
	long visited;

	for (i = 0; i < 8; i++) {
		key = i;
		v = i * i;
		bpf_map_update_elem(&squares, &key, &v, BPF_ANY);
	}
	visited = bpf_for_each_map_elem(&squares, add_value, &c, 0);
	return visited * 1000 + c.sum;
}

char LICENSE[] SEC("license") = "GPL";
