// SEC("cgroup_skb/ingress"): per-cgroup packet filter; the skb starts at the network header.
// Returns 1 to allow, 0 to drop: TCP to port 80 is dropped, everything else allowed.
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/if_ether.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/ingress")
int cgroup_skb_block_http(struct __sk_buff *skb)
{
	struct iphdr ip;
	__be16 dport;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != IPPROTO_TCP)
		return 1;
	if (bpf_skb_load_bytes(skb, ip.ihl * 4 + offsetof(struct tcphdr, dest), &dport, sizeof(dport)))
		return 1;
	return dport != bpf_htons(80);
}

char LICENSE[] SEC("license") = "GPL";
