// SPDX-License-Identifier: GPL-2.0
/* ps: the process list read from the kernel, three ways (the OS-introspection designs of the
 * eBPFmonitor paper):
 *  - ps_iter: a task iterator (iter/task, 5.8) writing one record per task with bpf_seq_write;
 *  - ps_walk_open_coded: a syscall program walking every process with the open-coded task
 *    iterator kfuncs (bpf_iter_task_new, 6.7) under bpf_rcu_read_lock;
 *  - ps_walk_loop: a syscall program walking the circular task list (task->tasks) in a bpf_loop
 *    callback. The paper starts at init_task found with bpf_kallsyms_lookup_name; kernels
 *    without CONFIG_KALLSYMS_ALL do not list data symbols (-ENOENT, kept in kallsyms_err), and
 *    the walk then starts from the current task, which is on the same circle.
 * The syscall programs fill the .bss array recs[] (nr entries). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define MAX_RECS 8192
#define MAX_WALK 65536

struct task_rec {
	__u32 pid;	/* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 state;
	__u32 exit_state;
	__u32 flags;
	__u32 nr_threads;
	__u32 pad;
	__u64 start_time;	/* ns since boot */
	__u64 total_vm;		/* pages */
	char comm[16];
};

const volatile bool show_threads = false;

struct task_rec recs[MAX_RECS];
__u32 nr;
__u32 truncated;
long kallsyms_err;
__u64 walk_start;
__u32 walk_closed;
/* not static: see bpf/scenarios/bpf_loop_task_walk.bpf.c (clang narrows static flags) */
struct task_struct *cursor;

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task, unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym __weak;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

static __always_inline void fill(struct task_rec *r, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	r->pid = BPF_CORE_READ(t, tgid);
	r->tid = BPF_CORE_READ(t, pid);
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->uid = BPF_CORE_READ(t, cred, uid.val);
	r->gid = BPF_CORE_READ(t, cred, gid.val);
	r->state = BPF_CORE_READ(t, __state);
	r->exit_state = BPF_CORE_READ(t, exit_state);
	r->flags = BPF_CORE_READ(t, flags);
	r->nr_threads = BPF_CORE_READ(t, signal, nr_threads);
	r->start_time = BPF_CORE_READ(t, start_time);
	r->total_vm = mm ? BPF_CORE_READ(mm, total_vm) : 0;
	BPF_CORE_READ_STR_INTO(&r->comm, t, comm);
}

static __always_inline void record(struct task_struct *t)
{
	__u32 i = nr;

	if (i >= MAX_RECS) {
		truncated = 1;
		return;
	}
	fill(&recs[i], t);
	nr = i + 1;
}

SEC("iter/task")
int ps_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct task_rec r = {};

	if (!t)
		return 0;
	if (!show_threads && t->pid != t->tgid)
		return 0;
	fill(&r, t);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("syscall")
int ps_walk_open_coded(void *ctx)
{
	struct bpf_iter_task it;
	struct task_struct *t;

	nr = 0;
	truncated = 0;
	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_PROCS);
	while ((t = bpf_iter_task_next(&it)))
		record(t);
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return nr;
}

static long visit_task(__u32 index, void *ctx)
{
	struct list_head *next;

	record(cursor);
	next = BPF_CORE_READ(cursor, tasks.next);
	cursor = (struct task_struct *)((void *)next - bpf_core_field_offset(struct task_struct, tasks));
	if ((__u64)cursor == walk_start) {
		walk_closed = 1;
		return 1;
	}
	return 0;
}

SEC("syscall")
int ps_walk_loop(void *ctx)
{
	static const char name[] = "init_task";
	__u64 addr = 0;

	nr = 0;
	truncated = 0;
	walk_closed = 0;
	kallsyms_err = bpf_kallsyms_lookup_name(name, sizeof(name), 0, &addr);
	walk_start = kallsyms_err || !addr ? bpf_get_current_task() : addr;
	cursor = (struct task_struct *)walk_start;
	bpf_loop(MAX_WALK, visit_task, NULL, 0);
	return nr;
}

char LICENSE[] SEC("license") = "GPL";
