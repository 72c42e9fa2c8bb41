// BPF_MAP_TYPE_QUEUE (FIFO, no key): push 10, 20, 30; peek sees 10; pop returns 10 then 20.
// Returns 10*100 + 20 = 1020 when the order is FIFO; 30 stays in the queue.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} fifo SEC(".maps");

SEC("syscall")
int queue_fifo(void *ctx)
{
	__u32 v, first, second, peeked;

	v = 10;
	bpf_map_push_elem(&fifo, &v, 0);
	v = 20;
	bpf_map_push_elem(&fifo, &v, 0);
	v = 30;
	bpf_map_push_elem(&fifo, &v, 0);
	if (bpf_map_peek_elem(&fifo, &peeked) || bpf_map_pop_elem(&fifo, &first) ||
	    bpf_map_pop_elem(&fifo, &second))
		return -1;
	if (peeked != first)
		return -2;
	return first * 100 + second;
}

char LICENSE[] SEC("license") = "GPL";
