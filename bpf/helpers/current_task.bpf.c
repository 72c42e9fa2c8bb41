// Current-task helpers cross-checked against the task_struct: bpf_get_current_pid_tgid vs
// task->tgid (CO-RE read), bpf_get_current_comm vs task->comm (bpf_probe_read_kernel_str),
// bpf_get_current_uid_gid vs task->cred->uid (bpf_probe_read_kernel). Bits 1|2|4 = 7 when all agree.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char task_comm[16];
__u32 task_tgid;

SEC("raw_tp/sys_enter")
int current_task_matches(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	const struct cred *cred;
	char comm[16];
	kuid_t uid;
	int ok = 0, i;

	task_tgid = BPF_CORE_READ(task, tgid);
	if (task_tgid == pid_tgid >> 32)
		ok |= 1;
	bpf_get_current_comm(comm, sizeof(comm));
	bpf_probe_read_kernel_str(task_comm, sizeof(task_comm), task->comm);
	for (i = 0; i < sizeof(comm); i++) {
		if (comm[i] != task_comm[i])
			break;
		if (comm[i] == 0) {
			ok |= 2;
			break;
		}
	}
	cred = BPF_CORE_READ(task, cred);
	if (!bpf_probe_read_kernel(&uid, sizeof(uid), &cred->uid) && uid.val == (__u32)uid_gid)
		ok |= 4;
	return ok;
}

char LICENSE[] SEC("license") = "GPL";
