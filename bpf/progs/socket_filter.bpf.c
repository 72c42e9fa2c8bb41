// BPF_PROG_TYPE_SOCKET_FILTER (SEC("socket")): keep UDP, drop the rest. A socket filter returns
// how many bytes of the packet to keep: skb->len keeps it all, 0 drops it. The protocol byte is
// read relative to the network header, so the filter works on any socket type.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("socket")
int socket_keep_udp(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes_relative(skb, offsetof(struct iphdr, protocol), &proto, 1, BPF_HDR_START_NET))
		return 0;
	return proto == IPPROTO_UDP ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
