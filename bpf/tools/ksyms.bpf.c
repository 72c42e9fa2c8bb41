// SPDX-License-Identifier: GPL-2.0
/* ksyms: the kernel's symbol table read by a ksym iterator (iter/ksym, 6.0), printed in the
 * /proc/kallsyms format ("ffffffff81000000 T _text" and "... t name\t[module]"): the kernel
 * symbol / module list design of the eBPFmonitor paper. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("iter/ksym")
int ksyms_iter(struct bpf_iter__ksym *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct kallsym_iter *it = ctx->ksym;

	if (!it)
		return 0;
	if (it->module_name[0])
		BPF_SEQ_PRINTF(seq, "%016llx %c %s\t[%s]\n", it->value, it->type, it->name, it->module_name);
	else
		BPF_SEQ_PRINTF(seq, "%016llx %c %s\n", it->value, it->type, it->name);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
