// SEC("tracepoint/syscalls/sys_enter_openat"), an opensnoop: the tracepoint context is the
// event's record (struct trace_event_raw_sys_enter); the file name is a user pointer read with
// bpf_probe_read_user_str, and pid/uid/comm come from the current-task helpers. Events go to a
// ring buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct open_event {
	__u32 pid;
	__u32 uid;
	int flags;
	char comm[16];
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} open_events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct open_event *e = bpf_ringbuf_reserve(&open_events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = bpf_get_current_uid_gid();
	e->flags = ctx->args[2];
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)ctx->args[1]);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
