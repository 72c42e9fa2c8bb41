// BPF_PROG_TYPE_SYSCALL (SEC("syscall")): run from user space with BPF_PROG_TEST_RUN, the
// context is a caller-defined struct. Returns a * b + c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct calc_args {
	int a;
	int b;
	int c;
};

SEC("syscall")
int syscall_calc(struct calc_args *args)
{
	return args->a * args->b + args->c;
}

char LICENSE[] SEC("license") = "GPL";
