// SEC("xdp.frags"): an XDP program that accepts multi-buffer frames (BPF_F_XDP_HAS_FRAGS).
// bpf_xdp_get_buff_len counts the bytes of all fragments, unlike data_end - data.
#include "include/tsbpf_net.h"

__u64 buff_len, linear_len;

SEC("xdp.frags")
int xdp_frags_len(struct xdp_md *ctx)
{
	buff_len = bpf_xdp_get_buff_len(ctx);
	linear_len = ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
