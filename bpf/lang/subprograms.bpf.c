// BPF-to-BPF calls: a static __noinline function (verified as part of its caller, may take
// any argument) and global non-static functions (verified once on their own from their BTF
// prototype: scalars and context only). Returns fib(10) + clamp_add(200, 100) + scaled(3)
// = 55 + 255 + 30 = 340.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline __u32 fib(__u32 n)
{
	__u32 a = 0, b = 1, t, i;

	for (i = 0; i < n && i < 32; i++) {
		t = a + b;
		a = b;
		b = t;
	}
	return a;
}

__noinline int clamp_add(int a, int b)
{
	int s = a + b;

	return s > 255 ? 255 : s;
}

__noinline int scaled(int x)
{
	return clamp_add(x, 0) * 10; /* a global function calling another */
}

SEC("syscall")
int subprogram_calls(void *ctx)
{
	return fib(10) + clamp_add(200, 100) + scaled(3);
}

char LICENSE[] SEC("license") = "GPL";
