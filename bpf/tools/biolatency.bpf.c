// SPDX-License-Identifier: GPL-2.0
/* biolatency: block device I/O latency as log2 histograms (BCC / libbpf-tools biolatency):
 * a request is stamped when issued to the device (or inserted in the queue with -Q) and the
 * time to completion is counted, optionally per disk (-D) and per request flags (-F).
 * tp_btf programs on block:block_rq_insert/issue/complete. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "log2_hist.h"

#define MAX_SLOTS 27
#define MAX_ENTRIES 10240
#define MKDEV(ma, mi) (((ma) << 20) | (mi))

const volatile bool targ_per_disk = false;
const volatile bool targ_per_flag = false;
const volatile bool targ_queued = false;
const volatile bool targ_ms = false;
const volatile bool filter_dev = false;
const volatile __u32 targ_dev = 0;

struct hist_key {
	__u32 cmd_flags;
	__u32 dev;
};

struct hist {
	__u32 slots[MAX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist initial_hist;

static __always_inline __u32 request_dev(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);

	if (!disk)
		return 0;
	return MKDEV(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));
}

static __always_inline int trace_rq_start(struct request *rq, bool insert)
{
	__u64 ts;

	if (filter_dev && targ_dev != request_dev(rq))
		return 0;
	/* With -Q the insert stamp wins; issue stamps only requests that were not inserted. */
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &rq, &ts, insert ? BPF_ANY : (targ_queued ? BPF_NOEXIST : BPF_ANY));
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert, struct request *rq)
{
	if (!targ_queued)
		return 0;
	return trace_rq_start(rq, true);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	return trace_rq_start(rq, false);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	struct hist_key hkey = {};
	struct hist *histp;
	__u64 *tsp, slot;
	__s64 delta;

	tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0;
	delta = (__s64)(bpf_ktime_get_ns() - *tsp);
	if (delta < 0)
		goto cleanup;
	if (targ_per_disk)
		hkey.dev = request_dev(rq);
	if (targ_per_flag)
		hkey.cmd_flags = BPF_CORE_READ(rq, cmd_flags);

	histp = bpf_map_lookup_elem(&hists, &hkey);
	if (!histp) {
		bpf_map_update_elem(&hists, &hkey, &initial_hist, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &hkey);
		if (!histp)
			goto cleanup;
	}
	delta /= targ_ms ? 1000000U : 1000U;
	slot = log2_slot(delta, MAX_SLOTS);
	__sync_fetch_and_add(&histp->slots[slot], 1);

cleanup:
	bpf_map_delete_elem(&start, &rq);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
