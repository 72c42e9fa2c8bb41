// Scenario from the eBPFmonitor paper: bpf_loop runs a callback 1000 times without the verifier
// walking 1000 iterations. The callback sums its indexes into the context. Returns the number of
// iterations bpf_loop reports (1000); .bss index_sum = 0 + 1 + ... + 999 = 499500.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
	__u64 sum;
};

__u64 index_sum;

static long callback_fn(__u32 index, struct loop_ctx *ctx)
{
	ctx->sum += index;
	return 0; /* 0 = continue, 1 = break */
}

SEC("syscall")
int bpf_loop_1000(void *ctx)
{
	struct loop_ctx c = { 0 };
	long n = bpf_loop(1000, callback_fn, &c, 0);

	index_sum = c.sum;
	return n;
}

char LICENSE[] SEC("license") = "GPL";
