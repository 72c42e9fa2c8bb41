/* Container identity of the current task (the guides' container extension), CO-RE reads only.
 * A task runs in a container when its PID namespace is not the root one (level > 0); the
 * container id is its UTS nodename (Docker sets it to the container id). Decoded by
 * src/tools/common/container.ts (keep the layout in sync: 72 bytes). */
#ifndef TSBPF_TOOLS_CONTAINER_H
#define TSBPF_TOOLS_CONTAINER_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define NODENAME_LEN 65

struct container_info {
	__u32 pidns_level;
	char nodename[NODENAME_LEN];
	char __pad[3];
};

/* The task's own PID namespace level (task->thread_pid->level; the guides read
 * nsproxy->pid_ns_for_children->level, which differs only after unshare(CLONE_NEWPID)). */
static __always_inline __u32 task_pidns_level(struct task_struct *task)
{
	return BPF_CORE_READ(task, thread_pid, level);
}

static __always_inline void fill_container(struct container_info *c, struct task_struct *task)
{
	c->pidns_level = task_pidns_level(task);
	BPF_CORE_READ_STR_INTO(&c->nodename, task, nsproxy, uts_ns, name.nodename);
}

static __always_inline void fill_current_container(struct container_info *c)
{
	fill_container(c, (struct task_struct *)bpf_get_current_task());
}

#endif
