// BPF_MAP_TYPE_RINGBUF: bpf_ringbuf_output copies a record, reserve+submit and reserve+discard
// commit in place. Returns the bytes now waiting for the consumer (bpf_ringbuf_query
// BPF_RB_AVAIL_DATA): each record takes an 8-byte header plus its size rounded up to 8, and
// discarded records still occupy space until the consumer skips them: 24 + 16 + 16 = 56.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 seq;
	__u32 kind;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("syscall")
int ringbuf_produce(void *ctx)
{
	struct event e = { .seq = 1, .kind = 1, .value = 0x1122334455667788ULL };
	__u64 *slot;

	if (bpf_ringbuf_output(&events, &e, sizeof(e), 0))
		return -1;
	slot = bpf_ringbuf_reserve(&events, sizeof(*slot), 0);
	if (!slot)
		return -2;
	*slot = 2;
	bpf_ringbuf_submit(slot, 0);
	slot = bpf_ringbuf_reserve(&events, sizeof(*slot), 0);
	if (!slot)
		return -3;
	*slot = 3;
	bpf_ringbuf_discard(slot, 0);
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
}

char LICENSE[] SEC("license") = "GPL";
