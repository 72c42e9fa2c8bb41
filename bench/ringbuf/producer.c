// The producer driver of bench/ringbuf.ts, the same for every consumer measured:
//
//   producer <pinned program> <pinned stats map> <records per run>
//
// Waits until stats[CONTROL] is GO, then runs the pinned program (producer.bpf.c) with
// BPF_PROG_TEST_RUN again and again (each run emits <records per run> records with bpf_loop)
// until stats[CONTROL] is STOP, then sets it to STOPPED and exits. It gives up after 10 s
// without GO or 60 s of running, so that a crashed benchmark leaves no process behind.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common.h"

static uint64_t get_stat(int fd, uint32_t slot)
{
	uint64_t v = 0;
	if (bpf_map_lookup_elem(fd, &slot, &v)) {
		fprintf(stderr, "producer: lookup stats[%u]: %s\n", slot, strerror(errno));
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: producer <pinned program> <pinned stats map> <records per run>\n");
		return 2;
	}
	int prog = bpf_obj_get(argv[1]);
	int stats = bpf_obj_get(argv[2]);
	if (prog < 0 || stats < 0) {
		fprintf(stderr, "producer: bpf_obj_get: %s\n", strerror(errno));
		return 1;
	}
	uint64_t args[1] = { strtoull(argv[3], NULL, 10) };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));

	double deadline = now_seconds() + 10;
	while (get_stat(stats, STAT_CONTROL) == CONTROL_WAIT) {
		if (now_seconds() > deadline)
			return 1;
		usleep(100);
	}
	deadline = now_seconds() + 60;
	while (get_stat(stats, STAT_CONTROL) == CONTROL_GO && now_seconds() < deadline) {
		if (bpf_prog_test_run_opts(prog, &opts)) {
			fprintf(stderr, "producer: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 1;
		}
	}
	uint32_t slot = STAT_CONTROL;
	uint64_t stopped = CONTROL_STOPPED;
	bpf_map_update_elem(stats, &slot, &stopped, BPF_ANY);
	return 0;
}
