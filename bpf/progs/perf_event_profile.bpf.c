// SEC("perf_event"): runs on each sample of a perf event (e.g. cpu-clock at 99 Hz); the
// context is struct bpf_perf_event_data. Counts samples per pid, weighted by sample_period.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} samples_by_pid SEC(".maps");

SEC("perf_event")
int perf_event_profile(struct bpf_perf_event_data *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 period = ctx->sample_period, *n = bpf_map_lookup_elem(&samples_by_pid, &pid);

	if (n)
		__sync_fetch_and_add(n, period);
	else
		bpf_map_update_elem(&samples_by_pid, &pid, &period, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
