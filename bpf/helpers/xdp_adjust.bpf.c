// bpf_xdp_adjust_meta / bpf_xdp_adjust_head / bpf_xdp_adjust_tail: reserve 4 bytes of metadata
// holding 0xcafef00d, prepend the 4-byte tag "TSBF" before the frame and drop its last 4 bytes
// (as if stripping an FCS). The frame grows by 0 bytes overall.
#include "include/tsbpf_net.h"

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data, *data_end, *meta;
	__u32 *tag, *mark;

	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_ABORTED;
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	mark = meta;
	if ((void *)(mark + 1) > data)
		return XDP_ABORTED;
	*mark = 0xcafef00d;

	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	tag = data;
	if ((void *)(tag + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(tag, "TSBF", 4);

	if (bpf_xdp_adjust_tail(ctx, -4))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
