// SEC("tcx/ingress"): a sched_cls program for the tcx link (BPF_TCX_INGRESS, kernel 6.6+) with
// tcx return codes: ICMP is dropped (TCX_DROP = 2), everything else passes (TCX_PASS = 0)
// with skb->mark set to 0x42.
#include "include/tsbpf_net.h"

#ifndef TCX_NEXT
#define TCX_NEXT -1
#define TCX_PASS 0
#define TCX_DROP 2
#define TCX_REDIRECT 7
#endif

SEC("tcx/ingress")
int tcx_drop_icmp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = HDR_AT(struct ethhdr, data, data_end, 0);
	struct iphdr *ip;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return TCX_NEXT;
	ip = HDR_AT(struct iphdr, data, data_end, sizeof(*eth));
	if (!ip)
		return TCX_NEXT;
	if (ip->protocol == IPPROTO_ICMP)
		return TCX_DROP;
	skb->mark = 0x42;
	return TCX_PASS;
}

char LICENSE[] SEC("license") = "GPL";
