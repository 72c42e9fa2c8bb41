// SEC("lsm/file_open"): a BPF LSM hook (needs CONFIG_BPF_LSM and "bpf" in the lsm= list).
// Denies opening files while deny_opens is set (a .bss knob), counts opens otherwise.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EPERM 1

__u32 deny_opens;
__u64 opens_seen;

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file *file, int ret)
{
	if (ret)
		return ret; /* an earlier hook already refused */
	if (deny_opens)
		return -EPERM;
	__sync_fetch_and_add(&opens_seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
