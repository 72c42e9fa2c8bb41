import { getSystemErrorMap } from "node:util";
import { TsbpfError } from "../errors.js";

/** Kernel-internal errno values that leak to userspace and that libc does not name. */
const KERNEL_ERRNOS: Readonly<Record<number, readonly [string, string]>> = {
  512: ["ERESTARTSYS", "restart system call"],
  514: ["ERESTARTNOHAND", "restart if no handler"],
  516: ["ERESTART_RESTARTBLOCK", "restart with restart block"],
  521: ["EBADHANDLE", "illegal NFS file handle"],
  524: ["ENOTSUPP", "operation not supported (kernel-internal errno)"],
  526: ["ETOOSMALL", "buffer or request is too small"],
};

/**
 * Errnos whose libuv name and text are about sockets: on Linux ENOTSUP and EOPNOTSUPP are both
 * 95, and bpf(2) returns it for "not supported by this kernel or object", never about a socket.
 */
const BPF_ERRNOS: Readonly<Record<number, readonly [string, string]>> = {
  95: ["EOPNOTSUPP", "operation not supported"],
};

/** The symbolic name and description of an errno: [ "EPERM", "operation not permitted" ]. */
export function describeErrno(errno: number): readonly [name: string, description: string] {
  const known = KERNEL_ERRNOS[errno] ?? BPF_ERRNOS[errno] ?? getSystemErrorMap().get(-errno);
  return known ?? [`errno ${errno}`, "unknown error"];
}

type Hint = string | { readonly [call: string]: string };

/**
 * What to do about an errno, per bpf(2) command when the meaning depends on it. Keys of the
 * per-command objects are command names ("BPF_MAP_CREATE") or "*" for the default.
 */
const HINTS: Readonly<Record<string, Hint>> = {
  EPERM: {
    BPF_OBJ_PIN: "the path must be inside a bpffs mount (/sys/fs/bpf) and this needs root or CAP_BPF",
    "*": "needs root or CAP_BPF/CAP_PERFMON (CAP_NET_ADMIN for networking programs); check kernel.unprivileged_bpf_disabled",
  },
  EACCES: {
    BPF_PROG_LOAD: "the verifier rejected the program",
    BPF_MAP_UPDATE_ELEM: "the map is read-only for userspace (BPF_F_RDONLY or frozen)",
    "*": "permission denied: needs root or CAP_BPF, or the object was opened read-only",
  },
  E2BIG: {
    BPF_MAP_UPDATE_ELEM: "the map is full (max_entries reached)",
    BPF_MAP_UPDATE_BATCH: "the map is full (max_entries reached)",
    "*": "the kernel does not know a field this call sets (kernel too old for the feature) or a size is too large",
  },
  EINVAL: {
    BPF_MAP_CREATE:
      "invalid map parameters: key/value size, max_entries or flags not valid for this map type on this kernel",
    BPF_PROG_LOAD:
      "invalid program attributes: program type, expected attach type, flags or instruction count",
    BPF_PROG_TEST_RUN:
      "this program type cannot be test-run with these inputs (data/ctx size, repeat, flags)",
    BPF_MAP_LOOKUP_ELEM: "key or value size does not match the map, or the map type has no lookup",
    BPF_MAP_UPDATE_ELEM: "key or value size does not match the map, or invalid update flags",
    BPF_LINK_CREATE: "the program type and attach type do not match this target",
    "*": "the kernel rejected a field of the request (unsupported value for this kernel or object type)",
  },
  ENOENT: {
    BPF_MAP_LOOKUP_ELEM: "no such key",
    BPF_MAP_DELETE_ELEM: "no such key",
    BPF_MAP_LOOKUP_AND_DELETE_ELEM: "no such key (or the queue/stack is empty)",
    BPF_OBJ_GET: "nothing is pinned at this path",
    BPF_PROG_GET_FD_BY_ID: "no program has this id",
    BPF_MAP_GET_FD_BY_ID: "no map has this id",
    BPF_LINK_GET_FD_BY_ID: "no link has this id",
    BPF_BTF_GET_FD_BY_ID: "no BTF object has this id",
    BPF_OBJ_PIN: "a directory of the path does not exist",
    "*": "not found",
  },
  EEXIST: {
    BPF_MAP_UPDATE_ELEM: "the key already exists (BPF_NOEXIST)",
    BPF_OBJ_PIN: "something is already pinned at this path",
    "*": "already exists",
  },
  EBADF: "bad file descriptor: the object was closed or the fd is not a BPF object of the expected kind",
  ENOSPC: "no space: the map is full or an output buffer is too small",
  ENOMEM: "out of memory: the object is too large (or RLIMIT_MEMLOCK on kernels before 5.11)",
  EBUSY: "resource busy: something is already attached here",
  EFAULT: "bad address: a buffer passed to the kernel was invalid (a bug in tsbpf)",
  EOPNOTSUPP: "operation not supported for this object type or by this kernel",
  ENOTSUPP: "operation not supported by this kernel (missing config option or feature)",
  ENODEV: "no such device: check the interface index",
  ENXIO: "no such device or address",
  ESRCH: "no such process or object",
  EINTR: "interrupted by a signal; retry",
  EAGAIN: "temporarily unavailable; retry",
  ENOTDIR: "a component of the path is not a directory",
  ENAMETOOLONG: "the path or name is too long",
};

function hintFor(name: string, call: string): string | undefined {
  const hint = HINTS[name];
  if (hint === undefined || typeof hint === "string") return hint;
  return hint[call] ?? hint["*"];
}

/**
 * A system call failed. `call` names it ("BPF_MAP_CREATE", "perf_event_open"); the message says
 * what was being done, the errno by name, and what to do about it.
 */
export class SyscallError extends TsbpfError {
  override name = "SyscallError";
  readonly errnoName: string;
  /** The suggestion in the message, when there is one. */
  readonly hint: string | undefined;

  constructor(
    readonly call: string,
    readonly errno: number,
    options: { context?: string; hint?: string; message?: string; cause?: unknown } = {},
  ) {
    const [name, description] = describeErrno(errno);
    const hint = options.hint ?? hintFor(name, call);
    super(
      options.message ??
        `${options.context ? `${options.context}: ` : ""}${call} failed: ${name} (${description})${hint ? `: ${hint}` : ""}`,
      { cause: options.cause },
    );
    this.errnoName = name;
    this.hint = hint;
  }
}

/** Describes an instruction of the program being loaded, e.g. its C source line from BTF line_info. */
export type InsnDescriber = (insnIndex: number) => string | undefined;

/** What summarizeVerifierLog extracts from a verifier log. */
export interface VerifierLogSummary {
  /** The verifier's reason: the meaningful lines after the last instruction it walked. */
  readonly reason: string;
  /** Index of the failing instruction (in 8-byte slots), when the log names one. */
  readonly insnIndex: number | undefined;
  /** The failing instruction as the verifier printed it, e.g. "(61) r0 = *(u32 *)(r1 +0)". */
  readonly insn: string | undefined;
  /** The source line the log (BTF line_info) or the describer gives for that instruction. */
  readonly source: string | undefined;
  /** A suggestion for a known cause. */
  readonly hint: string | undefined;
  /** Log lines not shown in the summary. */
  readonly omittedLines: number;
}

/** Statistics lines the verifier prints after its verdict, never the reason. */
const TRAILER = [
  /^processed \d+ insns/,
  /^verification time/,
  /^stack depth/,
  /^max_states_per_insn/,
  /^Live regs before insn:/,
  /^mark_precise:/,
];
const INSN_LINE = /^(\d+): \(([0-9a-f]{2})\) (.*)$/;
const SOURCE_LINE = /^; (.*)$/;

/** Suggestions for the verifier's most common complaints. */
const VERIFIER_HINTS: readonly (readonly [RegExp, string])[] = [
  [/R0 !read_ok/, "r0 must hold the return value before exit"],
  [/invalid mem access 'scalar'/, "a scalar is dereferenced: check pointers (map lookups) for NULL first"],
  [/invalid mem access '\w*_or_null'/, "a pointer that may be NULL is dereferenced: check it for NULL first"],
  [/unknown func|invalid func/, "this helper is not available to this program type or on this kernel"],
  [
    /back-edge|infinite loop detected/,
    "loops need a provable bound (or use bpf_loop / open-coded iterators)",
  ],
  [/invalid bpf_context access/, "this context field cannot be accessed from this program type at this size"],
  [
    /invalid access to packet|outside of the (allowed )?(packet|memory range)/,
    "check packet bounds against data_end",
  ],
  [
    /Unreleased reference|unreleased reference/,
    "a reference (ringbuf reservation, socket…) is leaked on some path",
  ],
  [
    /BPF program is too large|too many states/,
    "the program is too complex for the verifier: split it or bound loops",
  ],
  [/!read_ok/, "a register is read before being written"],
  [/unreachable insn/, "dead code is not allowed: remove unreachable instructions"],
  [/jump out of range/, "a jump targets an instruction outside the program"],
];

/** Extracts the verifier's verdict from its log: the reason, the failing instruction, a hint. */
export function summarizeVerifierLog(log: string, describe?: InsnDescriber): VerifierLogSummary {
  const lines = log.split("\n").map((l) => l.trimEnd());
  while (lines.length && (lines.at(-1) === "" || TRAILER.some((re) => re.test(lines.at(-1)!)))) lines.pop();

  let last = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (INSN_LINE.test(lines[i]!)) {
      last = i;
      break;
    }
  }
  let reasonLines = lines.slice(last + 1).filter((l) => l !== "" && !SOURCE_LINE.test(l));
  if (reasonLines.length === 0) reasonLines = lines.slice(-1);
  // The verdict is at the end; earlier lines after the instruction are register dumps.
  reasonLines = reasonLines.slice(-3);

  let insnIndex: number | undefined;
  let insn: string | undefined;
  let source: string | undefined;
  if (last >= 0) {
    const m = INSN_LINE.exec(lines[last]!)!;
    insnIndex = Number(m[1]);
    // Drop the register state the verifier appends after "; ".
    insn = `(${m[2]}) ${m[3]!.replace(/\s+;.*$/, "")}`;
    // With BTF line_info the verifier prints "; <C line> @ file:line" before the instructions
    // of each line: the nearest one above is the failing instruction's line.
    for (let i = last - 1; i >= 0 && source === undefined; i--) source = SOURCE_LINE.exec(lines[i]!)?.[1];
  } else {
    const m = /insn (\d+)/.exec(reasonLines.join(" "));
    if (m) insnIndex = Number(m[1]);
  }
  if (insnIndex !== undefined && describe) source = describe(insnIndex) ?? source;

  const reason = reasonLines.join("; ");
  const hint = VERIFIER_HINTS.find(([re]) => re.test(reason))?.[1];
  const shown = reasonLines.length + (insn ? 1 : 0);
  return {
    reason,
    insnIndex,
    insn,
    source,
    hint,
    omittedLines: Math.max(0, lines.filter((l) => l !== "").length - shown),
  };
}

/**
 * The verifier rejected a program. `log` is the whole verifier log; the message is a short
 * summary: the verifier's reason, the failing instruction (and its source line when known),
 * a hint for known causes and how many log lines were left out.
 */
export class VerifierError extends SyscallError {
  override name = "VerifierError";
  readonly summary: string;
  readonly details: VerifierLogSummary;
  /** Whether `log` is only the tail (the kernel's buffer was too small even at the cap). */
  readonly truncated: boolean;

  constructor(
    readonly programName: string,
    errno: number,
    readonly log: string,
    options: { truncated?: boolean; describe?: InsnDescriber; cause?: unknown } = {},
  ) {
    const details = summarizeVerifierLog(log, options.describe);
    const at =
      details.insnIndex !== undefined
        ? ` (at insn ${details.insnIndex}${details.insn ? `: ${details.insn}` : ""}${details.source ? ` | ${details.source}` : ""})`
        : "";
    const summary = `${details.reason}${at}${details.hint ? `: ${details.hint}` : ""}`;
    const omitted = details.omittedLines
      ? ` [${details.omittedLines} more log line(s)${options.truncated ? ", log truncated" : ""}]`
      : "";
    super("BPF_PROG_LOAD", errno, {
      message: `load program '${programName}': verifier rejected it (${describeErrno(errno)[0]}): ${summary}${omitted}`,
      hint: summary,
      cause: options.cause,
    });
    this.summary = summary;
    this.details = details;
    this.truncated = options.truncated ?? false;
  }
}
