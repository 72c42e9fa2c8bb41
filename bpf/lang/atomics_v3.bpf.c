// tsbpf: -mcpu=v3
// Atomic instructions of -mcpu=v3 on .bss variables: fetch-and-add (BPF_ADD|BPF_FETCH),
// add-and-fetch, fetch-and-or/and/xor, compare-and-swap (BPF_CMPXCHG, old value in r0) and
// exchange (__sync_lock_test_and_set = BPF_XCHG), in 64- and 32-bit forms.
// Returns the sum of the fetched values: 5 + 6 + 1 + 1 + 7 + 3 + 5 + 42 = 70.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 counter64 = 5;
__u32 counter32 = 1;
__u64 flags64 = 1;
__u32 cas32 = 5;
__u64 xchg64 = 42;

SEC("syscall")
int atomics_v3(void *ctx)
{
	__u64 total = 0;

	total += __sync_fetch_and_add(&counter64, 1);	/* 5, counter64 = 6 */
	total += __sync_add_and_fetch(&counter64, 0);	/* 6 */
	total += __sync_fetch_and_add(&counter32, 2);	/* 1, counter32 = 3 */
	total += __sync_fetch_and_or(&flags64, 6);	/* 1 -> 7: adds 1 */
	total += __sync_fetch_and_and(&flags64, 3);	/* 7 -> 3: adds 7 */
	total += __sync_fetch_and_xor(&flags64, 1);	/* 3 -> 2: adds 3 */
	total += __sync_val_compare_and_swap(&cas32, 5, 9); /* 5, cas32 = 9 */
	total += __sync_lock_test_and_set(&xchg64, 99);	/* 42, xchg64 = 99 */
	return total;
}

char LICENSE[] SEC("license") = "GPL";
