/* Event layout of execsnoop (decoded by src/tools/execsnoop.ts). */
#ifndef TSBPF_TOOLS_EXECSNOOP_H
#define TSBPF_TOOLS_EXECSNOOP_H

#define ARGSIZE 128
#define TASK_COMM_LEN 16
#define TOTAL_MAX_ARGS 60
#define DEFAULT_MAXARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define INVALID_UID ((uid_t)-1)
#define BASE_EVENT_SIZE (__u64)(&((struct event *)0)->args)
#define EVENT_SIZE(e) (BASE_EVENT_SIZE + e->args_size)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

struct event {
	pid_t pid;		/* 0 */
	pid_t ppid;		/* 4 */
	uid_t uid;		/* 8 */
	int retval;		/* 12 */
	int args_count;		/* 16 */
	unsigned int args_size;	/* 20 */
	char comm[TASK_COMM_LEN]; /* 24 */
	char args[FULL_MAX_ARGS_ARR]; /* 40 */
};

#endif
