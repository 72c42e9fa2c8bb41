// SEC("tp_btf/sched_switch"): a BTF-typed raw tracepoint (BPF_PROG_TYPE_TRACING,
// BPF_TRACE_RAW_TP): arguments are typed kernel pointers that can be dereferenced directly.
// Counts context switches per incoming pid.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} switches_in SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(tp_btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = next->pid;
	__u64 one = 1, *n = bpf_map_lookup_elem(&switches_in, &pid);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&switches_in, &pid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
