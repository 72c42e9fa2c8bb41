// SPDX-License-Identifier: GPL-2.0
/* execsnoop: traces exec() through the syscalls:sys_{enter,exit}_execve tracepoints, as
 * libbpf-tools' execsnoop: the enter side copies filename and up to max_args arguments into a
 * per-thread event, the exit side adds the return value and comm and sends it through a ring
 * buffer. Settings are .rodata constants written before loading. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "execsnoop.h"

const volatile bool ignore_failed = true;
const volatile uid_t targ_uid = INVALID_UID;
const volatile int max_args = DEFAULT_MAXARGS;

/* Events dropped because the ring buffer was full (read by userspace). */
__u64 lost = 0;

static const struct event empty_event = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, pid_t);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	const char **args = (const char **)(ctx->args[1]);
	const char *argp;
	struct event *event;
	uid_t uid = (u32)bpf_get_current_uid_gid();
	__u64 id = bpf_get_current_pid_tgid();
	pid_t pid = (pid_t)id;
	int ret, i;

	if (targ_uid != INVALID_UID && targ_uid != uid)
		return 0;
	if (bpf_map_update_elem(&execs, &pid, &empty_event, BPF_NOEXIST))
		return 0;
	event = bpf_map_lookup_elem(&execs, &pid);
	if (!event)
		return 0;

	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	event->pid = id >> 32;
	event->uid = uid;
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->args_count = 0;
	event->args_size = 0;

	ret = bpf_probe_read_user_str(event->args, ARGSIZE, (const char *)ctx->args[0]);
	if (ret < 0 || ret > ARGSIZE) {
		event->args[0] = '\0';
		ret = 1;
	}
	event->args_size = ret;
	event->args_count++;

	for (i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &args[i]) || !argp)
			return 0;
		if (event->args_size > LAST_ARG)
			return 0;
		ret = bpf_probe_read_user_str(&event->args[event->args_size], ARGSIZE, argp);
		if (ret < 0 || ret > ARGSIZE)
			return 0;
		event->args_count++;
		event->args_size += ret;
	}
	/* One more pointer that is not NULL: there were more arguments than max_args. */
	if (bpf_probe_read_user(&argp, sizeof(argp), &args[i]) || !argp)
		return 0;
	event->args_count++;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	pid_t pid = (pid_t)bpf_get_current_pid_tgid();
	struct event *event = bpf_map_lookup_elem(&execs, &pid);
	int ret;

	if (!event)
		return 0;
	ret = ctx->ret;
	if (ignore_failed && ret < 0)
		goto cleanup;
	event->retval = ret;
	bpf_get_current_comm(&event->comm, sizeof(event->comm));
	__u64 len = EVENT_SIZE(event);
	if (len <= sizeof(*event) && bpf_ringbuf_output(&events, event, len, 0))
		__sync_fetch_and_add(&lost, 1);
cleanup:
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
