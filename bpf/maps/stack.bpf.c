// BPF_MAP_TYPE_STACK (LIFO): push 10, 20, 30 into a 3-slot stack; a 4th push fails with -E2BIG
// unless BPF_EXIST overwrites the oldest. Pop returns 30 then 20: result 30*100 + 20 = 3020.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 3);
	__type(value, __u32);
} lifo SEC(".maps");

long overflow_error = 0;

SEC("syscall")
int stack_lifo(void *ctx)
{
	__u32 v, first, second;

	v = 10;
	bpf_map_push_elem(&lifo, &v, 0);
	v = 20;
	bpf_map_push_elem(&lifo, &v, 0);
	v = 30;
	bpf_map_push_elem(&lifo, &v, 0);
	v = 40;
	overflow_error = bpf_map_push_elem(&lifo, &v, 0);
	if (bpf_map_pop_elem(&lifo, &first) || bpf_map_pop_elem(&lifo, &second))
		return -1;
	return first * 100 + second;
}

char LICENSE[] SEC("license") = "GPL";
