// Producer of the ring buffer / perf buffer throughput benchmark (bench/ringbuf.ts).
// A raw tracepoint program run with BPF_PROG_TEST_RUN (never attached; raw_tp rather than syscall
// because sleepable syscall programs may not use perf event arrays): bpf_loop(args[0], ...) emits
// `args[0]` fixed-size records, each starting with a u64 sequence number (the rest of the record
// is left as reserved: the benchmark measures moving records, not filling them).
//
// Ring buffer: bpf_ringbuf_reserve + bpf_ringbuf_submit with BPF_RB_NO_WAKEUP, except every
// WAKEUP_EVERY-th record which forces a wake-up, so that wake-ups (irq_work) do not dominate
// the producer's cost while a consumer sleeping in epoll_wait is still woken up regularly.
// Perf buffer: bpf_perf_event_output(BPF_F_CURRENT_CPU) from a per-CPU scratch value (the
// record does not fit on the 512-byte stack); the perf event wakes its reader as configured.
//
// Rebuild the committed object with: node scripts/build-bpf.mjs bench/ringbuf/producer.bpf.c
//
// stats[0] = records emitted (the next sequence number), stats[1] = failed reservations/outputs
// (drops: the ring was full). One producer at a time, so plain increments suffice. stats[2] is
// the user-space start/stop handshake (bench/ringbuf/common.h).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define RING_SIZE (16 << 20)
#define WAKEUP_EVERY 1024

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_SIZE);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct record_1k {
	__u64 seq;
	__u8 rest[1024 - 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record_1k);
} scratch SEC(".maps");

struct loop_ctx {
	__u64 *seq;
	__u64 *drops;
	void *prog_ctx;
	struct record_1k *buf;
};

static __always_inline __u64 wakeup_flags(__u64 seq)
{
	return (seq & (WAKEUP_EVERY - 1)) == WAKEUP_EVERY - 1 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#define RINGBUF_EMITTER(SIZE)                                                      \
	static long ringbuf_emit_##SIZE(__u32 index, struct loop_ctx *c)            \
	{                                                                            \
		__u64 *rec = bpf_ringbuf_reserve(&ring, SIZE, 0);                    \
		__u64 seq = *c->seq;                                                 \
		if (!rec) {                                                          \
			*c->drops += 1;                                              \
			return 0;                                                    \
		}                                                                    \
		*rec = seq;                                                          \
		*c->seq = seq + 1;                                                   \
		bpf_ringbuf_submit(rec, wakeup_flags(seq));                          \
		return 0;                                                            \
	}

#define PERF_EMITTER(SIZE)                                                         \
	static long perf_emit_##SIZE(__u32 index, struct loop_ctx *c)               \
	{                                                                            \
		__u64 seq = *c->seq;                                                 \
		c->buf->seq = seq;                                                   \
		if (bpf_perf_event_output(c->prog_ctx, &events, BPF_F_CURRENT_CPU,  \
					  c->buf, SIZE) < 0) {                       \
			*c->drops += 1;                                              \
			return 0;                                                    \
		}                                                                    \
		*c->seq = seq + 1;                                                   \
		return 0;                                                            \
	}

RINGBUF_EMITTER(64)
RINGBUF_EMITTER(1024)
PERF_EMITTER(64)
PERF_EMITTER(1024)

/** Fills `c` with the counters and scratch buffer; false when a lookup fails. */
static __always_inline int prepare(struct loop_ctx *c, void *prog_ctx)
{
	__u32 k0 = 0, k1 = 1;

	c->seq = bpf_map_lookup_elem(&stats, &k0);
	c->drops = bpf_map_lookup_elem(&stats, &k1);
	c->buf = bpf_map_lookup_elem(&scratch, &k0);
	c->prog_ctx = prog_ctx;
	return c->seq && c->drops && c->buf;
}

#define PRODUCER(KIND, SIZE)                                                       \
	SEC("raw_tp")                                                                \
	int KIND##_##SIZE(struct bpf_raw_tracepoint_args *args)                      \
	{                                                                            \
		struct loop_ctx c;                                                   \
		if (!prepare(&c, args))                                              \
			return -1;                                                   \
		return bpf_loop(args->args[0], KIND##_emit_##SIZE, &c, 0);           \
	}

PRODUCER(ringbuf, 64)
PRODUCER(ringbuf, 1024)
PRODUCER(perf, 64)
PRODUCER(perf, 1024)

char LICENSE[] SEC("license") = "GPL";
