// The libbpf consumer of bench/ringbuf.ts (Debian's libbpf-dev, linked with -lbpf):
//
//   consumer ring <pinned ringbuf map> <pinned stats map> <seconds>
//   consumer perf <pinned perf event array> <pinned stats map> <seconds> <pages per CPU>
//   consumer drain <pinned ringbuf map> <pinned stats map> <pinned program> <records> <rounds>
//   consumer perfdrain <pinned perf event array> <pinned stats map> <pinned program> <records> <rounds> <pages>
//
// Opens the pinned map with ring_buffer__new (or perf_buffer__new_raw: one PERF_COUNT_SW_BPF_OUTPUT
// event per CPU waking the reader every WAKEUP_EVENTS samples), tells the producer to start
// (stats[CONTROL] = GO), busy-polls with ring_buffer__consume (perf_buffer__consume) for
// <seconds>, tells the producer to stop, and prints one JSON line: events consumed in the
// window, its length, the CPU time the consumer got in it, records emitted and dropped meanwhile (the program's counters), lost
// samples reported by the perf buffer, and records whose sequence number was not the one
// expected (the callback reads the u64 at the start of each record, as a real consumer would).
// drain: <rounds> times, fills the ring with <records> records (the producer program run once
// with BPF_PROG_TEST_RUN here, no other process), then times ring_buffer__consume emptying it;
// "seconds" is the sum of the drain times only, "roundNs" each round's ns per event. perfdrain: the
// same with a perf buffer (perf_buffer__new_raw, <pages> per CPU) and perf_buffer__consume.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include "common.h"

#define MAX_CPUS 1024
#define WAKEUP_EVENTS 1024

struct state {
	uint64_t events;
	uint64_t seq_errors;
	uint64_t expected;
	uint64_t lost;
	uint64_t last_seq[MAX_CPUS];
	double end;
};

static int ring_sample(void *ctx, void *data, size_t size)
{
	struct state *s = ctx;
	uint64_t seq = *(const uint64_t *)data;
	if (seq != s->expected)
		s->seq_errors++;
	s->expected = seq + 1;
	// Look at the clock now and then: with a producer faster than us, consume never returns.
	if ((++s->events & 4095) == 0 && now_seconds() >= s->end)
		return -1;
	return 0;
}

/** PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: the header, the raw size, the raw data. */
struct perf_sample_raw {
	struct perf_event_header header;
	uint32_t size;
	uint8_t data[];
};

struct perf_lost_record {
	struct perf_event_header header;
	uint64_t id;
	uint64_t lost;
};

/** perf_buffer__new_raw's callback: PERF_RECORD_SAMPLE (raw data) or PERF_RECORD_LOST. */
static enum bpf_perf_event_ret perf_event(void *ctx, int cpu, struct perf_event_header *event)
{
	struct state *s = ctx;
	if (event->type == PERF_RECORD_LOST) {
		s->lost += ((struct perf_lost_record *)event)->lost;
		return LIBBPF_PERF_EVENT_CONT;
	}
	if (event->type != PERF_RECORD_SAMPLE)
		return LIBBPF_PERF_EVENT_CONT;
	uint64_t seq;
	// The raw data starts 4 bytes after an 8-byte boundary: the u64 is unaligned.
	memcpy(&seq, ((struct perf_sample_raw *)event)->data, sizeof(seq));
	// Each CPU's buffer gets an increasing (not contiguous) part of the sequence.
	if (cpu < MAX_CPUS) {
		if (seq + 1 <= s->last_seq[cpu])
			s->seq_errors++;
		s->last_seq[cpu] = seq + 1;
	}
	s->events++;
	return LIBBPF_PERF_EVENT_CONT;
}

/** CPU time of this process (user + system), in seconds. */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void set_control(int stats, uint64_t value)
{
	uint32_t slot = STAT_CONTROL;
	if (bpf_map_update_elem(stats, &slot, &value, BPF_ANY)) {
		fprintf(stderr, "consumer: update stats: %s\n", strerror(errno));
		exit(1);
	}
}

static uint64_t get_stat(int stats, uint32_t slot)
{
	uint64_t v = 0;
	bpf_map_lookup_elem(stats, &slot, &v);
	return v;
}

/**
 * Opens the ring buffer, or the perf buffer with `pages` per CPU. perf_buffer__new's events wake
 * the reader at every sample, which costs ~10 us each in a VM (a self-IPI): like the ring
 * buffer's producer, they wake it every WAKEUP_EVENTS samples. Returns non-zero on failure.
 */
static int open_reader(int map, int perf, unsigned long pages, struct state *s, struct ring_buffer **rb,
		       struct perf_buffer **pb)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = WAKEUP_EVENTS,
	};
	if (perf)
		*pb = perf_buffer__new_raw(map, pages, &attr, perf_event, s, NULL);
	else
		*rb = ring_buffer__new(map, ring_sample, s, NULL);
	if (perf ? !*pb : !*rb) {
		fprintf(stderr, "consumer: %s: %s\n", perf ? "perf_buffer__new" : "ring_buffer__new",
			strerror(errno));
		return 1;
	}
	return 0;
}

/** The drain modes (see the top comment). */
static int drain(int argc, char **argv, int perf)
{
	int map = bpf_obj_get(argv[2]);
	int stats = bpf_obj_get(argv[3]);
	int prog = bpf_obj_get(argv[4]);
	if (map < 0 || stats < 0 || prog < 0) {
		fprintf(stderr, "consumer: bpf_obj_get: %s\n", strerror(errno));
		return 1;
	}
	uint64_t args[1] = { strtoull(argv[5], NULL, 10) };
	long rounds = strtol(argv[6], NULL, 10);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	static struct state s;
	s.end = 1e300;
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (open_reader(map, perf, perf ? strtoul(argv[7], NULL, 10) : 0, &s, &rb, &pb))
		return 1;
	uint32_t slot = STAT_PRODUCED;
	bpf_map_lookup_elem(stats, &slot, &s.expected);
	double seconds = 0;
	uint64_t warm = 0;
	double *round_ns = calloc(rounds + 1, sizeof(double));
	// Round 0 warms up (page faults, caches) and is not counted.
	for (long i = 0; i <= rounds; i++) {
		if (bpf_prog_test_run_opts(prog, &opts)) {
			fprintf(stderr, "consumer: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 1;
		}
		uint64_t before = s.events;
		double start = now_seconds();
		int err = perf ? perf_buffer__consume(pb) : ring_buffer__consume(rb);
		double took = now_seconds() - start;
		if (i == 0)
			warm = s.events;
		else
			seconds += took;
		round_ns[i] = took * 1e9 / (s.events - before ? s.events - before : 1);
		if (err < 0) {
			fprintf(stderr, "consumer: consume: %s\n", strerror(-err));
			return 1;
		}
	}
	printf("{\"events\":%llu,\"seconds\":%.6f,\"produced\":%llu,\"drops\":%llu,\"lost\":%llu,"
	       "\"seqErrors\":%llu,\"roundNs\":[",
	       (unsigned long long)(s.events - warm), seconds,
	       (unsigned long long)get_stat(stats, STAT_PRODUCED),
	       (unsigned long long)get_stat(stats, STAT_DROPS), (unsigned long long)s.lost,
	       (unsigned long long)s.seq_errors);
	for (long i = 1; i <= rounds; i++)
		printf("%s%.3f", i > 1 ? "," : "", round_ns[i]);
	printf("]}\n");
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "drain"))
		return drain(argc, argv, 0);
	if (argc == 8 && !strcmp(argv[1], "perfdrain"))
		return drain(argc, argv, 1);
	int perf = argc == 6 && !strcmp(argv[1], "perf");
	if (!perf && !(argc == 5 && !strcmp(argv[1], "ring"))) {
		fprintf(stderr, "usage: consumer ring <ringbuf map> <stats map> <seconds>\n"
				"       consumer perf <perf event array> <stats map> <seconds> <pages per CPU>\n"
				"       consumer drain <ringbuf map> <stats map> <program> <records> <rounds>\n"
				"       consumer perfdrain <perf event array> <stats map> <program> <records> <rounds> <pages>\n");
		return 2;
	}
	int map = bpf_obj_get(argv[2]);
	int stats = bpf_obj_get(argv[3]);
	if (map < 0 || stats < 0) {
		fprintf(stderr, "consumer: bpf_obj_get: %s\n", strerror(errno));
		return 1;
	}
	double seconds = strtod(argv[4], NULL);
	static struct state s;
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (open_reader(map, perf, perf ? strtoul(argv[5], NULL, 10) : 0, &s, &rb, &pb))
		return 1;

	double start = now_seconds(), cpu_start = cpu_seconds();
	s.end = start + seconds;
	set_control(stats, CONTROL_GO);
	double now;
	while ((now = now_seconds()) < s.end) {
		int err = perf ? perf_buffer__consume(pb) : ring_buffer__consume(rb);
		if (err < 0 && err != -1) {
			fprintf(stderr, "consumer: consume: %s\n", strerror(-err));
			return 1;
		}
	}
	set_control(stats, CONTROL_STOP);
	double cpu = cpu_seconds() - cpu_start;
	uint64_t produced = get_stat(stats, STAT_PRODUCED), drops = get_stat(stats, STAT_DROPS);
	printf("{\"events\":%llu,\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"produced\":%llu,\"drops\":%llu,"
	       "\"lost\":%llu,\"seqErrors\":%llu}\n",
	       (unsigned long long)s.events, now - start, cpu, (unsigned long long)produced,
	       (unsigned long long)drops, (unsigned long long)s.lost, (unsigned long long)s.seq_errors);
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	return 0;
}
