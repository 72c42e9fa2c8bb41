// SPDX-License-Identifier: GPL-2.0
/* profile: samples kernel and user stacks on every CPU at a fixed frequency (perf_event
 * program on a cpu-clock event), counting samples per (process, user stack, kernel stack),
 * as BCC's and libbpf-tools' profile. Settings are .rodata constants written before loading. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_STACK_DEPTH 127
#define TASK_COMM_LEN 16

struct key_t {
	__u32 pid;	/* tgid */
	__s32 user_stack_id;
	__s32 kern_stack_id;
	char name[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 16384);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct key_t);
	__type(value, __u64);
	__uint(max_entries, 16384);
} counts SEC(".maps");

/* Filters and switches (0 = off), set before loading. */
const volatile __u32 targ_pid = 0;	/* only this process (tgid) */
const volatile __u32 targ_tid = 0;	/* only this thread */
const volatile __u32 user_stacks_only = 0;
const volatile __u32 kernel_stacks_only = 0;
const volatile __u32 include_idle = 0;

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct key_t key = {};
	__u64 one = 1, *val;

	if (!include_idle && tid == 0)
		return 0;
	if (targ_pid && pid != targ_pid)
		return 0;
	if (targ_tid && tid != targ_tid)
		return 0;

	key.pid = pid;
	bpf_get_current_comm(&key.name, sizeof(key.name));
	key.user_stack_id = kernel_stacks_only ? -1 : bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
	key.kern_stack_id = user_stacks_only ? -1 : bpf_get_stackid(ctx, &stackmap, 0);

	val = bpf_map_lookup_elem(&counts, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
