// SEC("sk_skb/stream_parser") and SEC("sk_skb/stream_verdict"): the strparser pair of a
// sockmap. The parser says each skb is one whole message; the verdict passes it (SK_PASS).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stream_map SEC(".maps");

SEC("sk_skb/stream_parser")
int sk_skb_parser(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("sk_skb/stream_verdict")
int sk_skb_verdict(struct __sk_buff *skb)
{
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
