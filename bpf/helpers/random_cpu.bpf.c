// bpf_get_prandom_u32, bpf_get_smp_processor_id and bpf_get_numa_node_id. Values go to .bss;
// returns the NUMA node id (0 on a single-node machine).
#include "include/tsbpf_net.h"

__u32 random_a, random_b, cpu, numa_node;

SEC("xdp")
int random_cpu_numa(struct xdp_md *ctx)
{
	random_a = bpf_get_prandom_u32();
	random_b = bpf_get_prandom_u32();
	cpu = bpf_get_smp_processor_id();
	numa_node = bpf_get_numa_node_id();
	return numa_node;
}

char LICENSE[] SEC("license") = "GPL";
