// SEC("sk_msg"): runs on sendmsg of sockets in a sockmap/sockhash; counts bytes per message
// and passes them (SK_PASS). The sockmap it is attached to is defined here too.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} sock_map SEC(".maps");

__u64 msg_bytes;

SEC("sk_msg")
int sk_msg_count(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&msg_bytes, msg->size);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
