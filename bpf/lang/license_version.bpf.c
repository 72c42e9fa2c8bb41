// The "license" section (a NUL-terminated string the kernel checks for GPL-only helpers; here a
// GPL-compatible dual license) and the legacy "version" section (a u32 LINUX_VERSION_CODE that
// kernels before 5.0 compared for kprobes). A socket filter that keeps every packet.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int keep_all(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
__u32 VERSION SEC("version") = 0x061200; /* KERNEL_VERSION(6, 18, 0) */
