/* Log2 histogram slots shared by the latency tools (biolatency, runqlat), as libbpf-tools'
 * bits.bpf.h: slot i counts values in [2^i, 2^(i+1)), slot 0 also 0, the last slot everything
 * above. Read by src/tools/common/histogram.ts (formatLog2Histogram). */
#ifndef TSBPF_TOOLS_LOG2_HIST_H
#define TSBPF_TOOLS_LOG2_HIST_H

static __always_inline __u64 log2l(__u64 v)
{
	__u64 r = 0;
	for (int i = 32; i > 0; i >>= 1)
		if (v >= (1ULL << i)) { v >>= i; r += i; }
	return r;
}

/* The slot of `v` in a histogram of `max_slots` slots. */
static __always_inline __u64 log2_slot(__u64 v, __u64 max_slots)
{
	__u64 slot = log2l(v);

	return slot >= max_slots ? max_slots - 1 : slot;
}

#endif
