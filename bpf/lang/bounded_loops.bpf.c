// Bounded loops (kernel 5.3+): a for loop whose trip count depends on the packet length (capped
// at 64) and a while loop over the IPv4 header's 16-bit words; the verifier walks them instead of
// requiring unrolling. Stores the byte sum of the first 64 bytes and the IPv4 header checksum
// verification result (0xffff = valid) in .bss.
#include "include/tsbpf_net.h"

__u32 byte_sum;
__u32 ip_csum_fold;

SEC("xdp")
int bounded_loops(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data, i, sum = 0;
	__u16 *word;

	for (i = 0; i < len && i < 64; i++) {
		__u8 *b = data + i;

		if ((void *)(b + 1) > data_end)
			break;
		sum += *b;
	}
	byte_sum = sum;

	word = (__u16 *)HDR_AT(struct iphdr, data, data_end, ETH_HLEN);
	if (!word)
		return XDP_PASS;
	sum = 0;
	i = 0;
	while (i < sizeof(struct iphdr) / 2) { /* the 20-byte header is known to be in bounds */
		sum += bpf_ntohs(word[i]);
		i++;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip_csum_fold = sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
