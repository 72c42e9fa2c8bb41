// Shared by the C producer driver and the C consumers of bench/ringbuf.ts.
#ifndef TSBPF_RINGBENCH_COMMON_H
#define TSBPF_RINGBENCH_COMMON_H

#include <stdint.h>
#include <time.h>

// Slots of the pinned `stats` array map (u64 values). The BPF program writes the first two;
// the control slot is written by user space only (see producer.c).
enum { STAT_PRODUCED = 0, STAT_DROPS = 1, STAT_CONTROL = 2 };
// Control states: the consumer says GO and STOP, the producer answers STOPPED when it is done.
enum { CONTROL_WAIT = 0, CONTROL_GO = 1, CONTROL_STOP = 2, CONTROL_STOPPED = 3 };

static inline double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
