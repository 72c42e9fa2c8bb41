// Scenario from the eBPFmonitor paper: a syscall program finds init_task with
// bpf_kallsyms_lookup_name and walks the circular task list (task->tasks) in a bpf_loop callback,
// reading kernel memory with CO-RE, until it is back where it started. Without
// CONFIG_KALLSYMS_ALL data symbols such as init_task are not found (kallsyms_result = -ENOENT);
// the walk then starts from the current task. Returns 1 when the walk closed the circle within
// 100000 steps; .bss tasks_seen holds the task count.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

__u64 init_task_addr;
long kallsyms_result;
__u64 tasks_seen;
/* not static: clang shrinks a static int that only holds 0/1 to one byte, which then no longer
 * matches its BTF type and the kernel rejects the object's BTF */
struct task_struct *cursor;
__u32 closed;

static long visit_task(__u32 index, void *ctx)
{
	struct list_head *next = BPF_CORE_READ(cursor, tasks.next);

	cursor = (struct task_struct *)((void *)next - bpf_core_field_offset(struct task_struct, tasks));
	tasks_seen++;
	if ((__u64)cursor == init_task_addr) {
		closed = 1;
		return 1;
	}
	return 0;
}

SEC("syscall")
int task_walk(void *ctx)
{
	static const char name[] = "init_task";

	kallsyms_result = bpf_kallsyms_lookup_name(name, sizeof(name), 0, &init_task_addr);
	if (kallsyms_result || !init_task_addr)
		init_task_addr = bpf_get_current_task();
	cursor = (struct task_struct *)init_task_addr;
	bpf_loop(100000, visit_task, NULL, 0);
	return closed;
}

char LICENSE[] SEC("license") = "GPL";
