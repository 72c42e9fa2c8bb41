import { NotSupportedError, TsbpfError } from "../../errors.js";
import { loadKernelBtf } from "../../btf/index.js";
import { SyscallError } from "../errors.js";
import { KernelProgram, type LoadOptions, type ProgramSpec } from "../program.js";
import { AttachType, ProgramType, linkCreate, parseAttachType, parseProgramType } from "../sys/index.js";
import { RawLink } from "./link.js";

const EPERM = 1;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

/** Attach types that run through a BPF trampoline (fentry/fexit/fmod_ret/LSM/freplace). */
const TRAMPOLINE_KINDS: Readonly<Partial<Record<AttachType, string>>> = {
  [AttachType.TRACE_FENTRY]: "fentry",
  [AttachType.TRACE_FEXIT]: "fexit",
  [AttachType.MODIFY_RETURN]: "fmod_ret",
  [AttachType.LSM_MAC]: "lsm",
};

/** The error for a kernel that refuses BPF trampolines (EPERM / ENOTSUPP / EOPNOTSUPP). */
export function trampolineError(kind: string, cause: SyscallError): NotSupportedError {
  return new NotSupportedError(
    "BPF trampolines",
    `${kind} failed with ${cause.errnoName}: this kernel does not permit or provide BPF trampolines ` +
      "(fentry/fexit/fmod_ret/freplace/lsm need CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and an architecture JIT with trampoline support)",
    { cause },
  );
}

const isTrampolineErrno = (e: unknown): e is SyscallError =>
  e instanceof SyscallError && (e.errno === EPERM || e.errno === ENOTSUPP || e.errno === EOPNOTSUPP);

/**
 * Loads a tracing (fentry/fexit/fmod_ret), LSM or freplace program, turning the kernel's refusal
 * of trampolines into a NotSupportedError naming "BPF trampolines". Other program types are
 * loaded unchanged.
 */
export function loadTracingProgram(spec: ProgramSpec, options?: LoadOptions): KernelProgram {
  try {
    return KernelProgram.load(spec, options);
  } catch (e) {
    const type = parseProgramType(spec.type);
    const attach =
      spec.expectedAttachType === undefined ? undefined : parseAttachType(spec.expectedAttachType);
    const kind =
      type === ProgramType.EXT
        ? "freplace"
        : type === ProgramType.LSM
          ? "lsm"
          : type === ProgramType.TRACING && attach !== undefined
            ? TRAMPOLINE_KINDS[attach]
            : undefined;
    if (kind && isTrampolineErrno(e))
      throw trampolineError(`loading ${kind} program '${spec.name ?? ""}'`, e);
    throw e;
  }
}

/** Prefix libbpf gives the BTF name of a target, per attach type. */
const BTF_TARGET: Readonly<Partial<Record<AttachType, { prefix: string; kind: "func" | "typedef" }>>> = {
  [AttachType.TRACE_RAW_TP]: { prefix: "btf_trace_", kind: "typedef" },
  [AttachType.LSM_MAC]: { prefix: "bpf_lsm_", kind: "func" },
  [AttachType.LSM_CGROUP]: { prefix: "bpf_lsm_", kind: "func" },
  [AttachType.TRACE_ITER]: { prefix: "bpf_iter_", kind: "func" },
};

/**
 * The vmlinux BTF id a tracing program of `attachType` names at load time (attachBtfId), as
 * libbpf finds it: "btf_trace_NAME" typedefs for tp_btf, "bpf_lsm_NAME" for LSM, "bpf_iter_NAME"
 * for iterators, the function itself for fentry/fexit/fmod_ret.
 */
export function kernelBtfId(attachType: AttachType | string, name: string): number {
  const type = parseAttachType(attachType);
  const target = BTF_TARGET[type] ?? { prefix: "", kind: "func" as const };
  const found = loadKernelBtf().typeByName(target.prefix + name, target.kind);
  if (!found) {
    throw new TsbpfError(
      `no ${target.kind} '${target.prefix}${name}' in the kernel's BTF (for ${AttachType[type]?.toLowerCase()})`,
    );
  }
  return found.id;
}

/** Options of fentry/fexit/fmod_ret attachments. */
export interface TracingOptions {
  /** The program's expected attach type (the kernel checks it matches): default fentry. */
  attachType?:
    AttachType.TRACE_FENTRY | AttachType.TRACE_FEXIT | AttachType.MODIFY_RETURN | AttachType.LSM_MAC;
  /** bpf_get_attach_cookie() value. Needs 6.0. */
  cookie?: bigint | number;
}

/**
 * Attaches a program that runs through a BPF trampoline (BPF_LINK_CREATE, 5.8; the target was
 * chosen at load time with attachBtfId). A kernel without trampolines gives NotSupportedError
 * naming "BPF trampolines".
 */
export function attachTracing(prog: KernelProgram | number, options: TracingOptions = {}): RawLink {
  const attachType = options.attachType ?? AttachType.TRACE_FENTRY;
  const kind = TRAMPOLINE_KINDS[attachType] ?? "tracing";
  const progFd = typeof prog === "number" ? prog : prog.fd;
  try {
    const fd = linkCreate(
      { prog_fd: progFd, attach_type: attachType, "tracing.cookie": options.cookie ?? 0 },
      `attach ${kind}`,
    );
    return new RawLink(fd, kind);
  } catch (e) {
    if (isTrampolineErrno(e)) throw trampolineError(`attaching ${kind}`, e);
    throw e;
  }
}

/** fentry: runs at the entry of a kernel function (5.5). */
export const attachFentry = (
  prog: KernelProgram | number,
  options: Omit<TracingOptions, "attachType"> = {},
): RawLink => attachTracing(prog, { ...options, attachType: AttachType.TRACE_FENTRY });
/** fexit: runs at the exit of a kernel function, seeing its return value (5.5). */
export const attachFexit = (
  prog: KernelProgram | number,
  options: Omit<TracingOptions, "attachType"> = {},
): RawLink => attachTracing(prog, { ...options, attachType: AttachType.TRACE_FEXIT });
/** fmod_ret: may change the return value of an error-injectable function (5.7). */
export const attachFmodRet = (
  prog: KernelProgram | number,
  options: Omit<TracingOptions, "attachType"> = {},
): RawLink => attachTracing(prog, { ...options, attachType: AttachType.MODIFY_RETURN });
