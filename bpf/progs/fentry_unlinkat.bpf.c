// SEC("fentry/do_unlinkat"): a BPF trampoline program (BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY)
// with typed arguments through BPF_PROG; needs trampoline support (x86-64 JIT).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 unlink_calls;

SEC("fentry/do_unlinkat")
int BPF_PROG(fentry_unlinkat, int dfd, struct filename *name)
{
	__sync_fetch_and_add(&unlink_calls, 1);
	bpf_printk("fentry unlinkat %s", name->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
