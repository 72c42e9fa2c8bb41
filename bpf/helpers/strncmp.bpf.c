// bpf_strncmp: compares the name in the syscall program's context with the read-only string
// "tsbpf" (the second argument must be a constant string in .rodata). Returns the helper's
// result: 0 for equal, < 0 / > 0 like strcmp.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct name_ctx {
	char name[16];
};

SEC("syscall")
int strncmp_name(struct name_ctx *ctx)
{
	char name[16];

	__builtin_memcpy(name, ctx->name, sizeof(name));
	return bpf_strncmp(name, sizeof(name), "tsbpf");
}

char LICENSE[] SEC("license") = "GPL";
