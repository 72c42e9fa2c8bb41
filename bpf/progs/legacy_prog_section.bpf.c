// The old single-program convention of custom kprobe loaders: the program lives in a section
// named exactly "prog", gets struct pt_regs * (first argument of the probed function in rdi on
// x86-64), and its maps are iproute2 struct bpf_elf_map definitions in SEC("maps").
// Counts calls per first-argument value (e.g. the bpf(2) command when probing sys_bpf).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

#define PIN_GLOBAL_NS 2

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

struct bpf_elf_map SEC("maps") calls_by_arg = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 64,
	.pinning = PIN_GLOBAL_NS,
};

SEC("prog")
int count_calls(struct pt_regs *ctx)
{
	__u32 arg = ctx->rdi; /* uapi <asm/ptrace.h> names it rdi */
	__u64 one = 1, *n = bpf_map_lookup_elem(&calls_by_arg, &arg);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls_by_arg, &arg, &one, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060000; /* LINUX_VERSION_CODE, checked by kernels < 5.0 */
