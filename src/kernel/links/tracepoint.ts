import { openPerfEvent } from "../perf/event.js";
import type { KernelProgram } from "../program.js";
import { PerfType } from "../sys/perf-event-attr.js";
import { systemTracefs, type Tracefs } from "../tracefs.js";
import { attachToPerfEvent, type PerfAttachMode, type PerfEventLink } from "./perf-event-link.js";

/** Where and how to attach a tracepoint program (BPF_PROG_TYPE_TRACEPOINT). */
export interface TracepointOptions {
  /** The event's group (the directory under tracefs events/), e.g. "syscalls", "sched". */
  group: string;
  /** The event's name, e.g. "sys_enter_getpid", "sched_process_exec". */
  name: string;
  /** bpf_get_attach_cookie() value. Needs 5.15 (BPF perf_event links). */
  cookie?: bigint | number;
  /**
   * "auto" (default): a BPF link (5.15) with a fallback to PERF_EVENT_IOC_SET_BPF (4.7);
   * "ioctl": always the ioctl (no pinning, no link info).
   */
  mode?: PerfAttachMode;
  /** tracefs to read the event id from (default: the system's, mounted when needed). */
  tracefs?: Tracefs;
}

/**
 * Attaches a tracepoint program: perf_event_open(PERF_TYPE_TRACEPOINT) with the id from
 * tracefs events/GROUP/NAME/id, then a BPF perf_event link (or PERF_EVENT_IOC_SET_BPF) and
 * PERF_EVENT_IOC_ENABLE. Tracepoint programs need 4.7.
 */
export function attachTracepoint(prog: KernelProgram | number, options: TracepointOptions): PerfEventLink {
  const what = `tracepoint ${options.group}/${options.name}`;
  const id = (options.tracefs ?? systemTracefs()).eventId(options.group, options.name);
  const fd = openPerfEvent(
    { type: PerfType.TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1 },
    { pid: -1, cpu: 0 },
    `open ${what}`,
  );
  return attachToPerfEvent(prog, fd, {
    kind: "tracepoint",
    cookie: options.cookie,
    mode: options.mode,
    context: what,
  });
}
