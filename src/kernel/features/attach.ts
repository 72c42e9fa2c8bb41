import { existsSync } from "node:fs";
import { NotSupportedError } from "../../errors.js";
import { ProgramBuilder, R0, R1 } from "../../isa/builder.js";
import { describeErrno } from "../errors.js";
import { EVENT_SOURCE_DIR } from "../links/kprobe.js";
import { trampolineError } from "../links/tracing.js";
import { SyscallError } from "../errors.js";
import { loadKernelBtf } from "../../btf/index.js";
import {
  AttachType,
  BpfCmd,
  LINK_CREATE_ATTR,
  ProgramType,
  bpfRaw,
  closeFd,
  cString,
  progLoadRaw,
  syscalls,
  type Encodable,
} from "../sys/index.js";
import { encode } from "../../isa/codec.js";
import { systemTracefs } from "../tracefs.js";
import { memoised, probeLoad, lastLogLine, RETURN_ZERO, type FeatureResult } from "./probe.js";

const EBADF = 9;
const ENODEV = 19;
const EINVAL = 22;

/** Loads a program and keeps it (the caller closes it); -errno on failure. */
function loadKeep(type: ProgramType, expectedAttachType = 0, extra: { attach_btf_id?: number } = {}): number {
  const insns = encode(RETURN_ZERO);
  const r = progLoadRaw({
    prog_type: type,
    expected_attach_type: expectedAttachType,
    insns,
    insn_cnt: insns.byteLength / 8,
    license: "GPL",
    ...extra,
  });
  return r.ret;
}

/** Tries BPF_LINK_CREATE; returns the errno (0 on success, the link being closed). */
function tryLink(attr: Encodable<typeof LINK_CREATE_ATTR>): number {
  const r = bpfRaw(BpfCmd.LINK_CREATE, LINK_CREATE_ATTR, attr);
  if (r.ret >= 0) {
    closeFd(r.ret);
    return 0;
  }
  return -r.ret;
}

const errnoName = (errno: number): string => describeErrno(errno)[0];

/**
 * Probes a link kind by creating one on a target that cannot exist: a kernel that knows the
 * attach type complains about the target (`known` errnos); one that does not says EINVAL.
 */
function linkProbe(
  name: string,
  progType: ProgramType,
  attachType: AttachType,
  attr: Omit<Encodable<typeof LINK_CREATE_ATTR>, "prog_fd" | "attach_type">,
  known: readonly number[],
  needs: string,
): FeatureResult {
  return memoised(`attach ${name}`, () => {
    const prog = loadKeep(progType, attachType);
    if (prog < 0)
      return { supported: false, detail: `cannot load a ${name} program (${errnoName(-prog)}); ${needs}` };
    try {
      const errno = tryLink({ ...attr, prog_fd: prog, attach_type: attachType });
      if (errno === 0 || known.includes(errno))
        return {
          supported: true,
          detail: `BPF_LINK_CREATE knows ${name} (${errno ? errnoName(errno) : "ok"} on a dummy target)`,
        };
      return {
        supported: false,
        detail: `BPF_LINK_CREATE refuses ${name} with ${errnoName(errno)}; ${needs}`,
      };
    } finally {
      closeFd(prog);
    }
  });
}

/** A kprobe PMU in /sys/bus/event_source/devices (4.17). */
export const probeKprobePmu = (): FeatureResult =>
  memoised("kprobe PMU", () =>
    existsSync(`${EVENT_SOURCE_DIR}/kprobe/type`)
      ? { supported: true, detail: `${EVENT_SOURCE_DIR}/kprobe exists` }
      : { supported: false, detail: `no ${EVENT_SOURCE_DIR}/kprobe (kernel built without CONFIG_KPROBES?)` },
  );

/** A uprobe PMU (4.17). */
export const probeUprobePmu = (): FeatureResult =>
  memoised("uprobe PMU", () =>
    existsSync(`${EVENT_SOURCE_DIR}/uprobe/type`)
      ? { supported: true, detail: `${EVENT_SOURCE_DIR}/uprobe exists` }
      : {
          supported: false,
          detail: `no ${EVENT_SOURCE_DIR}/uprobe (kernel built without CONFIG_UPROBE_EVENTS?)`,
        },
  );

/** tracefs kprobe_events (legacy kprobes, CONFIG_KPROBE_EVENTS). */
export const probeKprobeEvents = (): FeatureResult =>
  memoised("tracefs kprobe_events", () => {
    const tracefs = systemTracefs();
    return tracefs.exists("kprobe_events")
      ? { supported: true, detail: `${tracefs.path("kprobe_events")} exists` }
      : {
          supported: false,
          detail: `no ${tracefs.path("kprobe_events")} (kernel built without CONFIG_KPROBE_EVENTS)`,
        };
  });

/** BPF trampolines: loading a tiny fentry program on bpf_fentry_test1 (5.5). */
export const probeTrampolines = (): FeatureResult =>
  memoised("BPF trampolines", () => {
    const target = loadKernelBtf().typeByName("bpf_fentry_test1", "func");
    if (!target) return { supported: false, detail: "no bpf_fentry_test1 in the kernel's BTF to probe with" };
    const r = probeLoad({
      prog_type: ProgramType.TRACING,
      expected_attach_type: AttachType.TRACE_FENTRY,
      attach_btf_id: target.id,
    });
    if (r.ok) return { supported: true, detail: "an fentry program on bpf_fentry_test1 loads" };
    if ([1, 95, 524].includes(r.errno))
      return {
        supported: false,
        detail: trampolineError("loading fentry", new SyscallError("BPF_PROG_LOAD", r.errno)).message,
      };
    return { supported: false, detail: `loading fentry fails with ${r.errnoName}: ${lastLogLine(r.log)}` };
  });

/** tcx links (6.6). */
export const probeTcx = (): FeatureResult =>
  linkProbe(
    "tcx",
    ProgramType.SCHED_CLS,
    AttachType.TCX_INGRESS,
    { target_ifindex: 0 },
    [ENODEV],
    "tcx needs 6.6",
  );

/** netkit links (6.7). */
export const probeNetkit = (): FeatureResult =>
  linkProbe(
    "netkit",
    ProgramType.SCHED_CLS,
    AttachType.NETKIT_PRIMARY,
    { target_ifindex: 0 },
    [ENODEV],
    "netkit needs 6.7 and CONFIG_NETKIT",
  );

/** BPF perf_event links (5.15; also what makes attach cookies work). */
export const probePerfEventLink = (): FeatureResult =>
  linkProbe(
    "perf_event link",
    ProgramType.TRACEPOINT,
    AttachType.PERF_EVENT,
    { target_fd: 0x7fffffff },
    [EBADF],
    "needs 5.15",
  );

/** uprobe.multi links (6.6). */
export const probeUprobeMulti = (): FeatureResult =>
  memoised("attach uprobe.multi", () => {
    const prog = loadKeep(ProgramType.KPROBE, AttachType.TRACE_UPROBE_MULTI);
    if (prog < 0)
      return {
        supported: false,
        detail: `cannot load a uprobe.multi program (${errnoName(-prog)}): needs 6.6`,
      };
    try {
      const offsets = new Uint8Array(8);
      // "/" is not a regular file: EBADF when the kernel knows uprobe.multi.
      const errno = tryLink({
        prog_fd: prog,
        attach_type: AttachType.TRACE_UPROBE_MULTI,
        "uprobe_multi.path": "/",
        "uprobe_multi.offsets": offsets,
        "uprobe_multi.cnt": 1,
      });
      return errno === EBADF || errno === 0
        ? { supported: true, detail: "BPF_LINK_CREATE knows uprobe.multi" }
        : {
            supported: false,
            detail: `BPF_LINK_CREATE refuses uprobe.multi with ${errnoName(errno)}; needs 6.6`,
          };
    } finally {
      closeFd(prog);
    }
  });

/** kprobe.multi links (5.18, CONFIG_FPROBE). */
export const probeKprobeMulti = (): FeatureResult =>
  memoised("attach kprobe.multi", () => {
    const prog = loadKeep(ProgramType.KPROBE, AttachType.TRACE_KPROBE_MULTI);
    if (prog < 0)
      return {
        supported: false,
        detail: `cannot load a kprobe.multi program (${errnoName(-prog)}): needs 5.18`,
      };
    try {
      const name = cString("bpf_fentry_test1");
      const syms = new Uint8Array(8);
      new DataView(syms.buffer).setBigUint64(0, syscalls().addressOf(name), true);
      const errno = tryLink({
        prog_fd: prog,
        attach_type: AttachType.TRACE_KPROBE_MULTI,
        "kprobe_multi.syms": syms,
        "kprobe_multi.cnt": 1,
      });
      void name;
      if (errno === 0) return { supported: true, detail: "a kprobe.multi link on bpf_fentry_test1 works" };
      const why =
        errno === EINVAL
          ? "the kernel does not know kprobe.multi (5.18)"
          : probeKprobePmu().supported || probeKprobeEvents().supported
            ? "the kernel has kprobes but not fprobe (CONFIG_FPROBE)"
            : "the kernel has no kprobes (CONFIG_KPROBES)";
      return {
        supported: false,
        detail: `BPF_LINK_CREATE of kprobe.multi fails with ${errnoName(errno)}: ${why}`,
      };
    } finally {
      closeFd(prog);
    }
  });

/** bpf_get_attach_cookie in tracepoint programs (5.15). */
export const probeBpfCookie = (): FeatureResult =>
  memoised("bpf_cookie", () => {
    const r = probeLoad(
      { prog_type: ProgramType.TRACEPOINT },
      new ProgramBuilder().call(174 /* bpf_get_attach_cookie */).mov(R0, 0).exit().build(),
    );
    return r.ok
      ? { supported: true, detail: "a tracepoint program may call bpf_get_attach_cookie" }
      : {
          supported: false,
          detail: `bpf_get_attach_cookie is refused (${lastLogLine(r.log) || r.errnoName}): needs 5.15`,
        };
  });

/** Whether a program can be loaded at all by this process (CAP_BPF / root). */
export const probeBpfSyscall = (): FeatureResult =>
  memoised("bpf() syscall", () => {
    const r = probeLoad(
      { prog_type: ProgramType.SOCKET_FILTER },
      new ProgramBuilder().mov(R1, 0).mov(R0, 0).exit().build(),
      false,
    );
    return r.ok
      ? { supported: true, detail: "a socket filter loads" }
      : { supported: false, detail: `loading a socket filter fails with ${r.errnoName}` };
  });

/** Every attach-level probe, in the order `tsbpf feature` prints them. */
export const ATTACH_PROBES: readonly (() => FeatureResult)[] = [
  probeKprobePmu,
  probeKprobeEvents,
  probeUprobePmu,
  probeTrampolines,
  probePerfEventLink,
  probeBpfCookie,
  probeKprobeMulti,
  probeUprobeMulti,
  probeTcx,
  probeNetkit,
];

/** The NotSupportedError to throw when a probe says no. */
export function unsupported(result: FeatureResult): NotSupportedError {
  return new NotSupportedError(result.name, result.detail);
}
