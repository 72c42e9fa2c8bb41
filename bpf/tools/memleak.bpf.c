// SPDX-License-Identifier: GPL-2.0
// tsbpf: -D__TARGET_ARCH_x86
/* memleak: outstanding user-space allocations of one process by stack (BCC / libbpf-tools
 * memleak, user mode): uprobes on malloc/calloc/realloc/free of the process's libc record each
 * allocation (size, time, user stack) when it returns and forget it when it is freed; what is
 * left after a while is a leak candidate. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_STACK_DEPTH 127

struct alloc_info {
	__u64 size;
	__u64 timestamp_ns;
	__s64 stack_id;
};

const volatile __u64 min_size = 0;
const volatile __u64 max_size = -1;
const volatile __u64 sample_rate = 1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);	/* tid */
	__type(value, __u64);	/* requested size */
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, __u64);	/* address */
	__type(value, struct alloc_info);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 10240);
} stack_traces SEC(".maps");

/* Counters for the summary: allocations and frees seen. */
__u64 nr_allocs;
__u64 nr_frees;

static __always_inline int gen_alloc_enter(__u64 size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (size < min_size || size > max_size)
		return 0;
	if (sample_rate > 1 && bpf_ktime_get_ns() % sample_rate != 0)
		return 0;
	bpf_map_update_elem(&sizes, &tid, &size, BPF_ANY);
	return 0;
}

static __always_inline int gen_alloc_exit(struct pt_regs *ctx, __u64 address)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct alloc_info info = {};
	__u64 *size;

	size = bpf_map_lookup_elem(&sizes, &tid);
	if (!size)
		return 0;
	info.size = *size;
	bpf_map_delete_elem(&sizes, &tid);
	if (!address)
		return 0;
	info.timestamp_ns = bpf_ktime_get_ns();
	info.stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
	bpf_map_update_elem(&allocs, &address, &info, BPF_ANY);
	__sync_fetch_and_add(&nr_allocs, 1);
	return 0;
}

static __always_inline int gen_free_enter(__u64 address)
{
	if (bpf_map_delete_elem(&allocs, &address) == 0)
		__sync_fetch_and_add(&nr_frees, 1);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, size_t size)
{
	return gen_alloc_enter(size);
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_exit, void *ret)
{
	return gen_alloc_exit(ctx, (__u64)ret);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, size_t nmemb, size_t size)
{
	return gen_alloc_enter(nmemb * size);
}

SEC("uretprobe")
int BPF_KRETPROBE(calloc_exit, void *ret)
{
	return gen_alloc_exit(ctx, (__u64)ret);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, void *ptr, size_t size)
{
	gen_free_enter((__u64)ptr);
	return gen_alloc_enter(size);
}

SEC("uretprobe")
int BPF_KRETPROBE(realloc_exit, void *ret)
{
	return gen_alloc_exit(ctx, (__u64)ret);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	return gen_free_enter((__u64)ptr);
}

char LICENSE[] SEC("license") = "GPL";
