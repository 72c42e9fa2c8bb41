import { SyscallError } from "../errors.js";
import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate, rawTracepointOpen } from "../sys/index.js";
import { RawLink, wrap } from "./link.js";

const EINVAL = 22;

/** Options of a BTF-enabled tracepoint (tp_btf) attachment. */
export interface TpBtfOptions {
  /** bpf_get_attach_cookie() value. Needs 6.10. */
  cookie?: bigint | number;
}

/**
 * Attaches a tp_btf program (BPF_PROG_TYPE_TRACING, expected attach type TRACE_RAW_TP, loaded
 * with the attachBtfId of "btf_trace_NAME", 5.5). Uses BPF_LINK_CREATE, falling back to
 * BPF_RAW_TRACEPOINT_OPEN with a NULL name on kernels whose LINK_CREATE lacks it. No trampoline.
 */
export function attachTpBtf(prog: KernelProgram | number, options: TpBtfOptions = {}): RawLink {
  const progFd = typeof prog === "number" ? prog : prog.fd;
  let fd: number;
  try {
    fd = linkCreate(
      { prog_fd: progFd, attach_type: AttachType.TRACE_RAW_TP, "tracing.cookie": options.cookie ?? 0 },
      "attach tp_btf",
    );
  } catch (e) {
    if (!(e instanceof SyscallError) || e.errno !== EINVAL || options.cookie) throw e;
    fd = wrap("attach tp_btf", () => rawTracepointOpen(null, progFd));
  }
  return new RawLink(fd, "tp_btf");
}
