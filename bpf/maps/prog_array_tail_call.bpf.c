// BPF_MAP_TYPE_PROG_ARRAY with initial values: slot 0 is filled at load time with tail_tx
// (`.values = { [0] = &tail_tx }`), so tail_call_entry jumps there and returns XDP_TX.
// Slot 1 is empty: the tail call to it falls through and the caller continues.
#include "include/tsbpf_net.h"

__u32 tail_calls_missed = 0;

SEC("xdp")
int tail_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
} jump_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_tx },
};

SEC("xdp")
int tail_call_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1); /* empty slot: execution continues here */
	tail_calls_missed++;
	bpf_tail_call(ctx, &jump_table, 0);
	return XDP_DROP; /* not reached when slot 0 is populated */
}

char LICENSE[] SEC("license") = "GPL";
