// Twin of bpf_loop_1000 with open-coded iterators (kernel 6.4+): the bpf_iter_num_new/next/destroy
// kfuncs directly, then the bpf_for and bpf_repeat macros built on them. Each loop runs 1000 times.
// Returns the iterations of the raw loop (1000); .bss: raw_sum = for_sum = 499500, repeat_count = 1000.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "include/tsbpf_iter.h"

__u64 raw_sum, for_sum, repeat_count;

SEC("syscall")
int open_coded_iter_1000(void *ctx)
{
	struct bpf_iter_num it;
	int *v, i, n = 0;

	bpf_iter_num_new(&it, 0, 1000);
	while ((v = bpf_iter_num_next(&it))) {
		raw_sum += *v;
		n++;
	}
	bpf_iter_num_destroy(&it);

	bpf_for(i, 0, 1000)
		for_sum += i;

	bpf_repeat(1000)
		repeat_count++;
	return n;
}

char LICENSE[] SEC("license") = "GPL";
