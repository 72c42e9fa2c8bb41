import type { KernelProgram } from "../program.js";
import { AttachType } from "../sys/index.js";
import type { RawLink } from "./link.js";
import { attachTracing } from "./tracing.js";

/** Options of an LSM attachment. */
export interface LsmOptions {
  /** bpf_get_attach_cookie() value. Needs 6.0. */
  cookie?: bigint | number;
}

/**
 * Attaches a BPF LSM program (BPF_PROG_TYPE_LSM, loaded with attachBtfId of "bpf_lsm_HOOK";
 * 5.7, and "bpf" in the lsm= boot list). Goes through a BPF trampoline: NotSupportedError
 * naming "BPF trampolines" when the kernel has none.
 */
export function attachLsm(prog: KernelProgram | number, options: LsmOptions = {}): RawLink {
  return attachTracing(prog, { attachType: AttachType.LSM_MAC, cookie: options.cookie });
}
