// Redirect helpers: bpf_redirect from tc to the ifindex in a .rodata knob (returns
// TC_ACT_REDIRECT = 7), and bpf_redirect_map through a device map whose low flag bits give the
// action when the slot is empty (here XDP_PASS = 2: the map starts empty).
#include "include/tsbpf_net.h"

const volatile __u32 target_ifindex = 1;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	return bpf_redirect(target_ifindex, 0);
}

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_ports, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
