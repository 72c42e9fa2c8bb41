// SEC("raw_tp/sys_enter") and its long spelling SEC("raw_tracepoint/sys_enter"): raw tracepoint
// programs get the tracepoint's arguments as u64s (sys_enter: struct pt_regs *, long id).
// Each program counts system calls by id in syscall_counts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} syscall_counts SEC(".maps");

static __always_inline int count_syscall(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 id = ctx->args[1];
	__u64 one = 1, *n = bpf_map_lookup_elem(&syscall_counts, &id);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&syscall_counts, &id, &one, BPF_NOEXIST);
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_tp_count(struct bpf_raw_tracepoint_args *ctx)
{
	return count_syscall(ctx);
}

SEC("raw_tracepoint/sys_enter")
int raw_tracepoint_count(struct bpf_raw_tracepoint_args *ctx)
{
	return count_syscall(ctx);
}

char LICENSE[] SEC("license") = "GPL";
