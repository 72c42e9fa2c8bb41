// SPDX-License-Identifier: GPL-2.0
/* runqlat: run queue (scheduler) latency as a log2 histogram, as BCC's and libbpf-tools'
 * runqlat: a task is stamped when it is woken (sched_wakeup, sched_wakeup_new) or preempted
 * while runnable (sched_switch prev), and the time until it runs (sched_switch next) is counted.
 * tp_btf programs (BTF-typed raw tracepoints: no trampoline needed). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "log2_hist.h"

#define MAX_SLOTS 26
#define MAX_ENTRIES 10240
#define TASK_RUNNING 0

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[16];
};

const volatile bool targ_per_process = false;
const volatile bool targ_per_thread = false;
const volatile bool targ_ms = false;
const volatile __u32 targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero;

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid)
		return 0;
	if (targ_tgid && targ_tgid != tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct hist *histp;
	__u64 *tsp, slot;
	__u32 pid, hkey;
	__s64 delta;

	if (BPF_CORE_READ(prev, __state) == TASK_RUNNING)
		trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	if (delta < 0)
		goto cleanup;

	if (targ_per_process)
		hkey = BPF_CORE_READ(next, tgid);
	else if (targ_per_thread)
		hkey = pid;
	else
		hkey = -1;
	histp = bpf_map_lookup_elem(&hists, &hkey);
	if (!histp) {
		bpf_map_update_elem(&hists, &hkey, &zero, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &hkey);
		if (!histp)
			goto cleanup;
		BPF_CORE_READ_STR_INTO(&histp->comm, next, comm);
	}
	delta /= targ_ms ? 1000000U : 1000U;
	slot = log2_slot(delta, MAX_SLOTS);
	__sync_fetch_and_add(&histp->slots[slot], 1);

cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
