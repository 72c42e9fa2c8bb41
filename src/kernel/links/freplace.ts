import type { KernelProgram } from "../program.js";
import { linkCreate } from "../sys/index.js";
import { SyscallError } from "../errors.js";
import { RawLink } from "./link.js";
import { trampolineError } from "./tracing.js";

const ATTACH_TYPE_UNSPEC = 0;

/** Options of an freplace (BPF_PROG_TYPE_EXT) attachment. */
export interface FreplaceOptions {
  /**
   * The program whose function is replaced; with targetBtfId, re-attaches to another target
   * than the one given at load time (5.10). Absent: the load-time target (5.6).
   */
  target?: KernelProgram | number;
  /** BTF id of the replaced function in the target program's BTF. */
  targetBtfId?: number;
}

/**
 * Replaces a global function of another BPF program (BPF_LINK_CREATE on an EXT program).
 * Goes through a BPF trampoline: NotSupportedError naming "BPF trampolines" when refused.
 */
export function attachFreplace(prog: KernelProgram | number, options: FreplaceOptions = {}): RawLink {
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const targetFd =
    options.target === undefined
      ? 0
      : typeof options.target === "number"
        ? options.target
        : options.target.fd;
  try {
    const fd = linkCreate(
      {
        prog_fd: progFd,
        target_fd: targetFd,
        attach_type: ATTACH_TYPE_UNSPEC,
        target_btf_id: options.targetBtfId ?? 0,
      },
      "attach freplace",
    );
    return new RawLink(fd, "freplace");
  } catch (e) {
    if (e instanceof SyscallError && [1, 95, 524].includes(e.errno))
      throw trampolineError("attaching freplace", e);
    throw e;
  }
}
