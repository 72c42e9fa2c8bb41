// SPDX-License-Identifier: GPL-2.0
/* offcputime: time threads spend blocked (off CPU), summed by kernel and user stack (BCC's and
 * libbpf-tools' offcputime): at sched_switch the thread leaving the CPU is stamped with its
 * stacks, and when it comes back the time it was away is added to its stacks' total (in
 * microseconds). The off-CPU half of the guides' continuous-profiling design (profile is the
 * on-CPU half). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define PF_KTHREAD 0x00200000
#define MAX_STACK_DEPTH 127
#define MAX_ENTRIES 10240

struct key_t {
	__u32 pid;	/* thread id */
	__u32 tgid;
	__s32 user_stack_id;
	__s32 kern_stack_id;
	char name[16];
};

struct start_t {
	__u64 start_ts;
	struct key_t key;
};

const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_pid = 0;
const volatile bool user_threads_only = false;
const volatile bool kernel_threads_only = false;
const volatile bool user_stacks_only = false;
const volatile bool kernel_stacks_only = false;
const volatile __u64 min_block_us = 1;
const volatile __u64 max_block_us = -1;
const volatile long targ_state = -1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct start_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, 16384);
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct key_t);
	__type(value, __u64);
} info SEC(".maps");

static __always_inline bool allow_record(struct task_struct *t)
{
	if (targ_tgid && BPF_CORE_READ(t, tgid) != targ_tgid)
		return false;
	if (targ_pid && BPF_CORE_READ(t, pid) != targ_pid)
		return false;
	if (user_threads_only && (BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return false;
	if (kernel_threads_only && !(BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return false;
	if (targ_state != -1 && BPF_CORE_READ(t, __state) != targ_state)
		return false;
	return true;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct start_t s = {}, *sp;
	__u64 *valp, delta;
	__u32 pid;

	if (allow_record(prev)) {
		pid = BPF_CORE_READ(prev, pid);
		/* idle threads (pid 0) of every CPU share one id: not ours to time */
		if (pid) {
			s.key.pid = pid;
			s.key.tgid = BPF_CORE_READ(prev, tgid);
			s.start_ts = bpf_ktime_get_ns();
			/* -EFAULT: no such stack (what bpf_get_stackid says for a kernel thread) */
			if (kernel_stacks_only || (BPF_CORE_READ(prev, flags) & PF_KTHREAD))
				s.key.user_stack_id = -14;
			else
				s.key.user_stack_id = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
			s.key.kern_stack_id = user_stacks_only ? -14 : bpf_get_stackid(ctx, &stackmap, 0);
			BPF_CORE_READ_STR_INTO(&s.key.name, prev, comm);
			bpf_map_update_elem(&start, &pid, &s, BPF_ANY);
		}
	}

	pid = BPF_CORE_READ(next, pid);
	sp = bpf_map_lookup_elem(&start, &pid);
	if (!sp)
		return 0;
	delta = (bpf_ktime_get_ns() - sp->start_ts) / 1000;
	if ((__s64)delta < 0 || delta < min_block_us || delta > max_block_us)
		goto cleanup;
	valp = bpf_map_lookup_elem(&info, &sp->key);
	if (valp) {
		__sync_fetch_and_add(valp, delta);
	} else {
		bpf_map_update_elem(&info, &sp->key, &delta, BPF_NOEXIST);
	}
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
