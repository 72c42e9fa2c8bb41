// SEC("iter/task"): a BPF iterator; reading the iterator's file runs the program once per task
// and once more with task == NULL at the end. Prints "pid tgid comm" lines with BPF_SEQ_PRINTF.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("iter/task")
int iter_task_list(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task) {
		BPF_SEQ_PRINTF(seq, "# end of tasks\n");
		return 0;
	}
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "# pid tgid comm\n");
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->pid, task->tgid, task->comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
