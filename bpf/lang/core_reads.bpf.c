// CO-RE (compile once, run everywhere): field offsets, existence checks, type existence, enum
// values, ___flavor structs and bitfields are relocated against the running kernel's BTF at
// load time. Each check that holds sets one bit of the result (all seven: 127).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Before 5.14 task_struct had `long state`; a ___flavor struct describes that layout. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* An enum flavor with a value that no kernel has. */
enum bpf_map_type___tsbpf {
	BPF_MAP_TYPE_TSBPF_IMAGINARY___tsbpf = 1000,
};

__u32 parent_tgid;
__u32 reset_on_fork;

SEC("raw_tp/sys_enter")
int core_reads(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int ok = 0;

	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);	/* chained pointer reads */
	if (parent_tgid > 0)
		ok |= 1;
	if (bpf_core_field_exists(task->__state))
		ok |= 2;
	if (!bpf_core_field_exists(((struct task_struct___pre514 *)task)->state))
		ok |= 4;
	if (bpf_core_type_exists(struct bpf_iter_num))
		ok |= 8;
	if (bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF) == 27 &&
	    !bpf_core_enum_value_exists(enum bpf_map_type___tsbpf, BPF_MAP_TYPE_TSBPF_IMAGINARY___tsbpf))
		ok |= 16;
	reset_on_fork = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
	if (reset_on_fork == 0)
		ok |= 32;
	if (bpf_core_field_size(task->comm) == 16)
		ok |= 64;
	return ok;
}

char LICENSE[] SEC("license") = "GPL";
