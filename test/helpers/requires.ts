/**
 * Kernel features a test can require, each detected by probing the running kernel. A test
 * tagged `requires: [...]` (kernelTest/describeKernel in kernel-gate.ts) is skipped with the
 * reason "requires <feature> (<why>)" where the kernel lacks the feature, and runs elsewhere.
 * `lacks: [...]` is the opposite, for tests of the error a missing feature gives. The kernel
 * matrix (test/vm-matrix) runs the kernel tests on several kernels and fails when a test is
 * skipped for either reason on every one of them.
 *
 * Probes do the smallest real thing the feature needs (libbpf/cilium style): attach a trivial
 * program, or look for the kernel interface the feature is. Adding a feature is one entry in
 * FEATURES.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadKernelBtf } from "../../src/btf/index.js";
import { describeErrno } from "../../src/kernel/errors.js";
import {
  AttachType,
  BpfCmd,
  LINK_CREATE_ATTR,
  ProgramType,
  RAW_TRACEPOINT_OPEN_ATTR,
  bpfRaw,
  progLoadRaw,
  syscalls,
} from "../../src/kernel/sys/index.js";

/** The result of a probe: present, or absent with a short reason. */
export type FeatureStatus =
  { readonly present: true; readonly detail: string } | { readonly present: false; readonly reason: string };

interface FeatureProbe {
  /** What the feature is, for the matrix table. */
  readonly description: string;
  readonly probe: () => FeatureStatus;
}

const present = (detail: string): FeatureStatus => ({ present: true, detail });
const absent = (reason: string): FeatureStatus => ({ present: false, reason });
const errnoName = (ret: number): string => describeErrno(-ret)[0];

/** r0 = 0; exit */
const RETURN_ZERO = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/** Loads RETURN_ZERO as `type`; returns the fd, or the failure's reason. */
function loadTrivial(
  type: ProgramType,
  extra: { expected_attach_type?: number; attach_btf_id?: number } = {},
): number | string {
  const { ret } = progLoadRaw({
    prog_type: type,
    insn_cnt: RETURN_ZERO.length / 8,
    insns: RETURN_ZERO,
    license: "GPL",
    ...extra,
  });
  return ret >= 0 ? ret : `loading a ${ProgramType[type]} program fails with ${errnoName(ret)}`;
}

/** BTF id of a kernel function, trying candidates in order. */
function kernelFunc(names: readonly string[]): { id: number; name: string } | string {
  let btf;
  try {
    btf = loadKernelBtf();
  } catch (e) {
    return (e as Error).message;
  }
  for (const name of names) {
    const id = btf.idsByName(name).find((i) => btf.kindOf(i) === "func");
    if (id !== undefined) return { id, name };
  }
  return `none of ${names.join(", ")} in kernel BTF`;
}

/** Loads a BTF-attached program (fentry, LSM) and attaches it through BPF_RAW_TRACEPOINT_OPEN. */
function attachBtfProgram(
  type: ProgramType,
  attachType: AttachType,
  funcs: readonly string[],
): FeatureStatus {
  const func = kernelFunc(funcs);
  if (typeof func === "string") return absent(func);
  const prog = loadTrivial(type, { expected_attach_type: attachType, attach_btf_id: func.id });
  if (typeof prog === "string") return absent(`${prog} (attach to ${func.name})`);
  try {
    const { ret } = bpfRaw(BpfCmd.RAW_TRACEPOINT_OPEN, RAW_TRACEPOINT_OPEN_ATTR, {
      name: null,
      prog_fd: prog,
    });
    if (ret < 0) return absent(`attaching to ${func.name} fails with ${errnoName(ret)}`);
    syscalls().close(ret);
    return present(`attached to ${func.name}`);
  } finally {
    syscalls().close(prog);
  }
}

/** The tracefs directory, mounted or not (tsbpf mounts it; probes only look). */
const TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

export const FEATURES = {
  kprobe: {
    description: "kprobe/kretprobe through the perf 'kprobe' PMU",
    probe: () =>
      existsSync("/sys/bus/event_source/devices/kprobe/type")
        ? present("kprobe PMU")
        : absent("no kprobe PMU (/sys/bus/event_source/devices/kprobe; kernel without CONFIG_KPROBE_EVENTS)"),
  },
  "kprobe-events": {
    description: "kprobes created through tracefs kprobe_events",
    probe: () => {
      const dir = TRACEFS.find((d) => existsSync(`${d}/kprobe_events`));
      if (dir) return present(`${dir}/kprobe_events`);
      if (!TRACEFS.some((d) => existsSync(`${d}/events`))) return absent("tracefs is not mounted");
      return absent("tracefs has no kprobe_events (kernel without CONFIG_KPROBE_EVENTS)");
    },
  },
  "kprobe-multi": {
    description: "kprobe.multi links (BPF_TRACE_KPROBE_MULTI, needs CONFIG_FPROBE)",
    probe: () => {
      const prog = loadTrivial(ProgramType.KPROBE, { expected_attach_type: AttachType.TRACE_KPROBE_MULTI });
      if (typeof prog === "string") return absent(prog);
      try {
        // No symbols: EINVAL from the real implementation, EOPNOTSUPP from the !CONFIG_FPROBE stub.
        const { ret } = bpfRaw(BpfCmd.LINK_CREATE, LINK_CREATE_ATTR, {
          prog_fd: prog,
          attach_type: AttachType.TRACE_KPROBE_MULTI,
        });
        if (ret >= 0) {
          syscalls().close(ret);
          return present("link_create accepted an empty kprobe.multi");
        }
        return ret === -22
          ? present("link_create checks kprobe.multi arguments")
          : absent(`link_create fails with ${errnoName(ret)}`);
      } finally {
        syscalls().close(prog);
      }
    },
  },
  trampoline: {
    description: "BPF trampolines: fentry/fexit/fmod_ret programs attach",
    probe: () =>
      attachBtfProgram(ProgramType.TRACING, AttachType.TRACE_FENTRY, ["bpf_fentry_test1", "do_sys_openat2"]),
  },
  lsm: {
    description: "BPF LSM programs attach ('bpf' is an active LSM)",
    probe: () => {
      const lsms = existsSync("/sys/kernel/security/lsm")
        ? readFileSync("/sys/kernel/security/lsm", "utf8")
        : undefined;
      if (lsms !== undefined && !lsms.split(",").includes("bpf"))
        return absent(`'bpf' is not an active LSM (${lsms.trim()})`);
      return attachBtfProgram(ProgramType.LSM, AttachType.LSM_MAC, ["bpf_lsm_file_open"]);
    },
  },
  tcx: {
    description: "tcx links (BPF_TCX_INGRESS/EGRESS, 6.6+)",
    probe: () => {
      const prog = loadTrivial(ProgramType.SCHED_CLS);
      if (typeof prog === "string") return absent(prog);
      try {
        // An ifindex that cannot exist: ENODEV where tcx exists, EINVAL where the attach type is unknown.
        const { ret } = bpfRaw(BpfCmd.LINK_CREATE, LINK_CREATE_ATTR, {
          prog_fd: prog,
          target_ifindex: 0xffffffff,
          attach_type: AttachType.TCX_INGRESS,
        });
        if (ret >= 0) syscalls().close(ret);
        return ret === -19
          ? present("link_create knows BPF_TCX_INGRESS")
          : absent(`tcx link_create fails with ${errnoName(ret)}`);
      } finally {
        syscalls().close(prog);
      }
    },
  },
} as const satisfies Record<string, FeatureProbe>;

/** A kernel feature a test can require. */
export type Feature = keyof typeof FEATURES;

export const FEATURE_NAMES = Object.keys(FEATURES) as Feature[];

const cache = new Map<Feature, FeatureStatus>();

/** Probes `feature` on the running kernel (once per process). A probe that throws means absent. */
export function featureStatus(feature: Feature): FeatureStatus {
  let status = cache.get(feature);
  if (!status) {
    try {
      status = FEATURES[feature].probe();
    } catch (e) {
      status = absent(`probe failed: ${(e as Error).message}`);
    }
    cache.set(feature, status);
  }
  return status;
}

/** The prefix of every skip reason given for a missing feature (the matrix looks for it). */
export const REQUIRES_PREFIX = "requires ";

/** The skip reason for the features the running kernel lacks, or undefined when it has them all. */
export function missingFeatures(features: readonly Feature[]): string | undefined {
  const missing = features
    .map((f) => [f, featureStatus(f)] as const)
    .filter((entry): entry is readonly [Feature, FeatureStatus & { present: false }] => !entry[1].present);
  if (missing.length === 0) return undefined;
  return REQUIRES_PREFIX + missing.map(([f, s]) => `${f} (${s.reason})`).join(", ");
}

/**
 * The skip reason for a test of the error path of a feature (it expects the feature to be
 * missing) on a kernel that has one of `features`, or undefined when it lacks them all.
 */
export function presentFeatures(features: readonly Feature[]): string | undefined {
  const there = features
    .map((f) => [f, featureStatus(f)] as const)
    .filter((entry): entry is readonly [Feature, FeatureStatus & { present: true }] => entry[1].present);
  if (there.length === 0) return undefined;
  return REQUIRES_PREFIX + there.map(([f, s]) => `no ${f} (the kernel has it: ${s.detail})`).join(", ");
}
