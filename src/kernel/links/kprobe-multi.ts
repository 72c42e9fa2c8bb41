import { NotSupportedError, TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import type { KernelProgram } from "../program.js";
import { AttachType, cString, linkCreate, syscalls } from "../sys/index.js";
import { dynamicPmu, noKprobesError } from "./kprobe.js";
import { RawLink } from "./link.js";
import { systemTracefs } from "../tracefs.js";

/** BPF_F_KPROBE_MULTI_RETURN */
const KPROBE_MULTI_RETURN = 1;

/** Options of a kprobe.multi attachment (5.18, CONFIG_FPROBE). */
export interface KprobeMultiOptions {
  /** Kernel function names (or give `addresses`). */
  symbols?: readonly string[];
  /** Kernel addresses instead of names. */
  addresses?: readonly bigint[];
  /** One bpf_get_attach_cookie() value per function. */
  cookies?: readonly bigint[];
  /** Attach to the functions' returns (kretprobe.multi). */
  ret?: boolean;
}

function u64Array(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigUint64(i * 8, v, true));
  return out;
}

/** Whether this kernel has any kprobe support (PMU or kprobe_events). */
function hasKprobes(): boolean {
  if (dynamicPmu("kprobe")) return true;
  try {
    return systemTracefs().exists("kprobe_events");
  } catch {
    return false;
  }
}

/** errnos of a kernel that knows kprobe.multi but cannot do it: EOPNOTSUPP, ENOTSUPP. */
const NOT_SUPPORTED_ERRNOS: readonly number[] = [95, 524];

/**
 * The error of a kernel with kprobes but without fprobe: kprobe.multi links are built on fprobe
 * (CONFIG_FPROBE, 5.18+), and without it BPF_LINK_CREATE answers EOPNOTSUPP.
 */
export function noFprobeError(detail: string, cause?: unknown): NotSupportedError {
  return new NotSupportedError(
    "kprobe.multi",
    `kprobe.multi needs fprobe (CONFIG_FPROBE) and kernel 5.18+; this kernel has kprobes but ${detail}` +
      " (attach each function with a kprobe instead)",
    { cause },
  );
}

/**
 * Attaches one program to many kernel functions at once (BPF_LINK_CREATE with
 * BPF_TRACE_KPROBE_MULTI; the program is loaded with that expected attach type).
 */
export function attachKprobeMulti(prog: KernelProgram | number, options: KprobeMultiOptions): RawLink {
  const symbols = options.symbols ?? [];
  const addresses = options.addresses ?? [];
  const count = symbols.length || addresses.length;
  if (count === 0 || (symbols.length && addresses.length))
    throw new TsbpfError("kprobe.multi: give either symbols or addresses (not both, not none)");
  if (options.cookies && options.cookies.length !== count)
    throw new TsbpfError(`kprobe.multi: ${options.cookies.length} cookies for ${count} functions`);
  const progFd = typeof prog === "number" ? prog : prog.fd;
  // syms is an array of char* pointers: keep the strings alive during the call.
  const strings = symbols.map(cString);
  const sys = syscalls();
  const syms = symbols.length ? u64Array(strings.map((s) => sys.addressOf(s))) : null;
  try {
    const fd = linkCreate(
      {
        prog_fd: progFd,
        attach_type: AttachType.TRACE_KPROBE_MULTI,
        "kprobe_multi.flags": options.ret ? KPROBE_MULTI_RETURN : 0,
        "kprobe_multi.cnt": count,
        "kprobe_multi.syms": syms,
        "kprobe_multi.addrs": addresses.length ? u64Array(addresses) : null,
        "kprobe_multi.cookies": options.cookies ? u64Array(options.cookies) : null,
      },
      `attach kprobe.multi (${count} functions)`,
    );
    strings.length = 0;
    return new RawLink(fd, options.ret ? "kretprobe.multi" : "kprobe.multi");
  } catch (e) {
    if (e instanceof SyscallError && [...NOT_SUPPORTED_ERRNOS, 22].includes(e.errno) && !hasKprobes()) {
      throw noKprobesError(
        `BPF_TRACE_KPROBE_MULTI failed with ${e.errnoName} and the kernel has no kprobe PMU or kprobe_events`,
      );
    }
    if (e instanceof SyscallError && NOT_SUPPORTED_ERRNOS.includes(e.errno))
      throw noFprobeError(`BPF_LINK_CREATE of kprobe.multi fails with ${e.errnoName}`, e);
    throw e;
  }
}
