// BPF_MAP_TYPE_PERF_EVENT_ARRAY: bpf_perf_event_output to the current CPU's slot. Without a
// perf event fd in the slot (no reader), the helper fails with -ENOENT (-2), recorded in
// last_output_error; with a reader each packet's length and first 14 bytes are sent.
#include "include/tsbpf_net.h"

struct packet_sample {
	__u32 len;
	__u8 eth[14];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

long last_output_error = 1;

SEC("xdp")
int perf_event_sample(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct packet_sample s = { .len = data_end - data };

	if (data + sizeof(s.eth) > data_end)
		return XDP_PASS;
	__builtin_memcpy(s.eth, data, sizeof(s.eth));
	last_output_error = bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
