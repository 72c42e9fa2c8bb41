import type { KernelProgram } from "../program.js";
import { rawTracepointOpen } from "../sys/index.js";
import { RawLink, wrap } from "./link.js";
import { checkEventName } from "../tracefs.js";

/** Options of a raw tracepoint (BPF_PROG_TYPE_RAW_TRACEPOINT) attachment. */
export interface RawTracepointOptions {
  /** The tracepoint's name without its group: "sys_enter", "sched_switch". */
  name: string;
  /** bpf_get_attach_cookie() value. Needs 6.10. */
  cookie?: bigint | number;
}

/** Attaches a raw tracepoint program (BPF_RAW_TRACEPOINT_OPEN, 4.17; a BPF link since 5.8). */
export function attachRawTracepoint(prog: KernelProgram | number, options: RawTracepointOptions): RawLink {
  checkEventName(options.name, "name");
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const fd = wrap(`attach raw_tracepoint ${options.name}`, () =>
    rawTracepointOpen(options.name, progFd, options.cookie ?? 0),
  );
  return new RawLink(fd, "raw_tracepoint");
}
