// iproute2's `struct bpf_elf_map` in SEC("maps") (as tc's bpf_elf.h defines it) with pinning
// PIN_GLOBAL_NS: tc pins the map as /sys/fs/bpf/tc/globals/tc_ingress_bytes so other tc
// programs share it. The classifier adds each packet's length and lets it pass (TC_ACT_OK).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define PIN_NONE 0
#define PIN_OBJECT_NS 1
#define PIN_GLOBAL_NS 2

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

struct bpf_elf_map SEC("maps") tc_ingress_bytes = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier")
int tc_count_bytes(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *bytes = bpf_map_lookup_elem(&tc_ingress_bytes, &key);

	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
