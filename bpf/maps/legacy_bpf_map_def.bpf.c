// Legacy map definition: `struct bpf_map_def` (type, key_size, value_size, max_entries,
// map_flags) in SEC("maps"), as in samples/bpf before BTF. A socket filter counts IPv4 packets
// by protocol and accepts them all (returns skb->len). libbpf >= 1.0 refuses this layout.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") proto_packets = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
	.map_flags = 0,
};

SEC("socket")
int legacy_count_proto(struct __sk_buff *skb)
{
	__u32 proto = 0;
	__u64 *count;

	if (skb->protocol != __builtin_bswap16(ETH_P_IP))
		return skb->len;
	/* relative to the network header: the same on AF_PACKET sockets and in BPF_PROG_TEST_RUN */
	if (bpf_skb_load_bytes_relative(skb, offsetof(struct iphdr, protocol), &proto, 1, BPF_HDR_START_NET))
		return skb->len;
	count = bpf_map_lookup_elem(&proto_packets, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
