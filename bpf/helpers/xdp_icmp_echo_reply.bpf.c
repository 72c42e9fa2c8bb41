// bpf_csum_diff in an XDP ping responder: an ICMP echo request becomes the echo reply (MACs and
// IPs swapped, type 8 -> 0) and goes back out (XDP_TX). The ICMP checksum is updated
// incrementally from the csum_diff of the old and new first header word; swapping the addresses
// leaves the IPv4 checksum unchanged.
#include "include/tsbpf_net.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int xdp_icmp_echo_reply(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	unsigned char mac[ETH_ALEN];
	struct icmphdr *icmp;
	struct iphdr *ip;
	__be32 old_word, new_word, addr;
	__s64 diff;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	icmp = HDR_AT(struct icmphdr, data, data_end, sizeof(*eth) + sizeof(*ip));
	if (!icmp || icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;

	/* the first 32-bit word holds type, code and the checksum itself: diff it with checksum 0 */
	old_word = *(__be32 *)icmp;
	icmp->type = ICMP_ECHOREPLY;
	icmp->checksum = 0;
	new_word = *(__be32 *)icmp;
	diff = bpf_csum_diff(&old_word, sizeof(old_word), &new_word, sizeof(new_word), 0);
	if (diff < 0)
		return XDP_ABORTED;
	/* old checksum field held ~sum(rest); removing the old word and adding the new gives the new sum */
	icmp->checksum = csum_fold(diff);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
