// Externs from .kconfig: the loader fills LINUX_KERNEL_VERSION from the running kernel and
// CONFIG_* values from its config (/proc/config.gz or /boot/config-$(uname -r)); __weak ones
// read as 0 when absent. Returns CONFIG_HZ (250 on the reference kernel) when the kernel is at
// least 5.0 and CONFIG_BPF_SYSCALL is set, -1 otherwise.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern bool CONFIG_TSBPF_NO_SUCH_OPTION __kconfig __weak;

__u32 kernel_version;

SEC("syscall")
int kconfig_values(void *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 0, 0) || !CONFIG_BPF_SYSCALL || CONFIG_TSBPF_NO_SUCH_OPTION)
		return -1;
	return CONFIG_HZ;
}

char LICENSE[] SEC("license") = "GPL";
