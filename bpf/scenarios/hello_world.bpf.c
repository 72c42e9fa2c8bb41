// Scenario from the "eBPF のはじめかた" talk: "Hello, eBPF world!" printed to the trace pipe
// (/sys/kernel/tracing/trace_pipe) each time a process calls clone(2), here on the
// syscalls:sys_enter_clone tracepoint instead of a kprobe.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_clone")
int hello_world(void *ctx)
{
	bpf_printk("Hello, eBPF world!");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
