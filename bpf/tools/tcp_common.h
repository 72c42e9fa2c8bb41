/* Shared by the TCP tools: the sock:inet_sock_set_state tracepoint's addresses. */
#ifndef TSBPF_TOOLS_TCP_COMMON_H
#define TSBPF_TOOLS_TCP_COMMON_H

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TASK_COMM_LEN 16

/* Copies the event's source and destination addresses (4 or 16 bytes) into saddr/daddr. */
static __always_inline void copy_addrs(struct trace_event_raw_inet_sock_set_state *args, __u8 saddr[16],
				       __u8 daddr[16])
{
	/* Through the helper: the verifier refuses byte loads at computed context offsets. */
	if (args->family == AF_INET) {
		bpf_probe_read_kernel(saddr, 4, args->saddr);
		bpf_probe_read_kernel(daddr, 4, args->daddr);
	} else {
		bpf_probe_read_kernel(saddr, 16, args->saddr_v6);
		bpf_probe_read_kernel(daddr, 16, args->daddr_v6);
	}
}

#endif
