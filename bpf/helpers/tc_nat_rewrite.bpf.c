// skb helpers for a tiny DNAT in tc: bpf_skb_load_bytes reads the IPv4 and UDP headers,
// bpf_skb_store_bytes rewrites destination 10.1.0.2:53 -> 10.1.0.99:5353, bpf_l3_csum_replace
// fixes the IP checksum and bpf_l4_csum_replace the UDP one (address as pseudo-header change).
#include "include/tsbpf_net.h"
#include <stddef.h>

#define IP_OFF ETH_HLEN
#define UDP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))
#define UDP_CSUM_OFF (UDP_OFF + offsetof(struct udphdr, check))
#define UDP_DPORT_OFF (UDP_OFF + offsetof(struct udphdr, dest))

const volatile __u32 match_daddr = 0x0a010002;
const volatile __u32 new_daddr = 0x0a010063;
const volatile __u16 match_dport = 53;
const volatile __u16 new_dport = 5353;

SEC("tc")
int tc_dnat(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	__be32 old_addr, addr = bpf_htonl(new_daddr);
	__be16 old_port, port = bpf_htons(new_dport);

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, IP_OFF, &ip, sizeof(ip)) || ip.ihl != 5 || ip.protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, UDP_OFF, &udp, sizeof(udp)))
		return TC_ACT_OK;
	if (ip.daddr != bpf_htonl(match_daddr) || udp.dest != bpf_htons(match_dport))
		return TC_ACT_OK;
	old_addr = ip.daddr;
	old_port = udp.dest;

	bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_addr, addr, BPF_F_PSEUDO_HDR | sizeof(addr));
	bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_port, port, sizeof(port));
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, addr, sizeof(addr));
	bpf_skb_store_bytes(skb, IP_DST_OFF, &addr, sizeof(addr), 0);
	bpf_skb_store_bytes(skb, UDP_DPORT_OFF, &port, sizeof(port), 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
