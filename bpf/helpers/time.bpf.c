// Time helpers: bpf_ktime_get_ns (CLOCK_MONOTONIC), bpf_ktime_get_boot_ns (CLOCK_BOOTTIME,
// counts suspend too, so >= monotonic), bpf_ktime_get_coarse_ns and bpf_jiffies64. The readings
// land in .bss; the return value has one bit per invariant that held (all four: 15).
#include "include/tsbpf_net.h"

__u64 mono_ns, mono_ns_again, boot_ns, coarse_ns, jiffies;

/* XDP, not syscall: syscall programs may not call bpf_ktime_get_coarse_ns. */
SEC("xdp")
int time_helpers(struct xdp_md *ctx)
{
	int ok = 0;

	mono_ns = bpf_ktime_get_ns();
	boot_ns = bpf_ktime_get_boot_ns();
	coarse_ns = bpf_ktime_get_coarse_ns();
	jiffies = bpf_jiffies64();
	mono_ns_again = bpf_ktime_get_ns();
	if (mono_ns_again >= mono_ns)
		ok |= 1;
	if (boot_ns >= mono_ns)
		ok |= 2;
	if (coarse_ns > 0 && coarse_ns <= mono_ns_again)
		ok |= 4;
	if (jiffies > 0)
		ok |= 8;
	return ok;
}

char LICENSE[] SEC("license") = "GPL";
