// SPDX-License-Identifier: GPL-2.0
/* syscount: counts system calls by syscall or by process, optionally with their total latency,
 * through raw_syscalls:sys_enter/sys_exit, as libbpf-tools' syscount. Userspace reads and
 * clears the `data` map at each interval. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_ENTRIES 8192
#define TASK_COMM_LEN 16

const volatile bool count_by_process = false;
const volatile bool measure_latency = false;
const volatile bool filter_failed = false;
const volatile int filter_errno = 0;
const volatile pid_t filter_pid = 0;

struct data_t {
	__u64 count;
	__u64 total_ns;
	char comm[TASK_COMM_LEN];
};

static const struct data_t zero;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, u32);
	__type(value, struct data_t);
} data SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *args)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32, tid = id;
	u64 ts;

	if (filter_pid && pid != filter_pid)
		return 0;
	if (measure_latency) {
		ts = bpf_ktime_get_ns();
		bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	}
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *args)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32, tid = id;
	u64 *start_ts = 0, lat = 0;
	struct data_t *val;
	u32 key;

	if (filter_pid && pid != filter_pid)
		return 0;
	if (args->id < 0)
		return 0;
	if (filter_failed && args->ret >= 0)
		return 0;
	if (filter_errno && args->ret != -filter_errno)
		return 0;
	if (measure_latency) {
		start_ts = bpf_map_lookup_elem(&start, &tid);
		if (!start_ts)
			return 0;
		lat = bpf_ktime_get_ns() - *start_ts;
		bpf_map_delete_elem(&start, &tid);
	}
	key = count_by_process ? pid : (u32)args->id;
	val = bpf_map_lookup_elem(&data, &key);
	if (!val) {
		bpf_map_update_elem(&data, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&data, &key);
		if (!val)
			return 0;
	}
	__sync_fetch_and_add(&val->count, 1);
	if (count_by_process)
		bpf_get_current_comm(&val->comm, sizeof(val->comm));
	if (measure_latency)
		__sync_fetch_and_add(&val->total_ns, lat);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
