// tsbpf: -D__TARGET_ARCH_x86
// SEC("kprobe/do_unlinkat") with BPF_KPROBE: the macro unpacks the arguments from struct
// pt_regs (PT_REGS_PARM1.. for x86, hence -D__TARGET_ARCH_x86). Logs the unlinked name.
// Needs CONFIG_KPROBES (not available on every kernel).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(kprobe_unlinkat, int dfd, struct filename *name)
{
	const char *filename = BPF_CORE_READ(name, name);
	__u64 ip = PT_REGS_IP(ctx);

	bpf_printk("unlinkat dfd=%d name=%s ip=%lx", dfd, filename, ip);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
