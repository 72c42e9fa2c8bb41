// Formatted output: bpf_printk with up to 3 arguments (bpf_trace_printk), with more arguments
// (bpf_trace_vprintk) and bpf_snprintf into a .bss buffer. Returns bpf_snprintf's result: the
// length of "42-abc-ff" plus its NUL = 10.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char formatted[32];

SEC("syscall")
int printk_formats(void *ctx)
{
	static const char fmt[] = "%d-%s-%x";
	static const char abc[] = "abc";
	const char *str = abc;
	__u64 args[3];

	/* keep the pointer a run-time value: a pointer inside an initialised .rodata array would
	 * need a data relocation, which BPF loaders do not apply */
	asm volatile("" : "+r"(str));
	args[0] = 42;
	args[1] = (__u64)(long)str;
	args[2] = 255;

	bpf_printk("tsbpf printk: %d %s", 42, abc);
	bpf_printk("tsbpf vprintk: %d %d %d %d %d", 1, 2, 3, 4, 5);
	return bpf_snprintf(formatted, sizeof(formatted), fmt, args, sizeof(args));
}

char LICENSE[] SEC("license") = "GPL";
