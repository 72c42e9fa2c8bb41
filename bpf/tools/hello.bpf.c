// SPDX-License-Identifier: GPL-2.0
// tsbpf: -D__TARGET_ARCH_x86
/* hello: the guides' first program: "Hello, eBPF world!" each time a process calls clone().
 * Output through bpf_trace_printk (read from trace_pipe, as BCC's trace_print) or, with
 * use_ringbuf, as {pid, ppid, comm} records in a ring buffer. Hooks: kprobes on the clone
 * syscalls as in the guide when the kernel has kprobes, else the syscalls tracepoints. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16

const volatile bool use_ringbuf = false;

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} events SEC(".maps");

static __always_inline int hello(void)
{
	struct task_struct *task;
	struct event *e;

	if (!use_ringbuf) {
		bpf_printk("Hello, eBPF world!");
		return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone")
int hello_clone_tp(void *ctx)
{
	return hello();
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int hello_clone3_tp(void *ctx)
{
	return hello();
}

SEC("kprobe/__x64_sys_clone")
int hello_clone_kprobe(void *ctx)
{
	return hello();
}

SEC("kprobe/__x64_sys_clone3")
int hello_clone3_kprobe(void *ctx)
{
	return hello();
}

char LICENSE[] SEC("license") = "GPL";
