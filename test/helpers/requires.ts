/**
 * Kernel features a test can require, each detected by probing the running kernel. A test
 * tagged `requires: [...]` (kernelTest/describeKernel in kernel-gate.ts) is skipped with the
 * reason "requires <feature> (<why>)" where the kernel lacks the feature, and runs elsewhere.
 * `lacks: [...]` is the opposite, for tests of the error a missing feature gives. The kernel
 * matrix (test/vm-matrix) runs the kernel tests on several kernels and fails when a test is
 * skipped for either reason on every one of them.
 *
 * Probes do the smallest real thing the feature needs (libbpf/cilium style): attach a trivial
 * program, or look for the kernel interface the feature is; most are the library's own probes
 * (src/kernel/features). Adding a feature is one entry in FEATURES.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadKernelBtf } from "../../src/btf/index.js";
import { ProgramBuilder, R0, R1 } from "../../src/isa/builder.js";
import { encode } from "../../src/isa/codec.js";
import { describeErrno } from "../../src/kernel/errors.js";
import {
  probeKprobeEvents,
  probeKprobeMulti,
  probeKprobePmu,
  probeNetkit,
  probeProgramType,
  probeTcx,
  probeUprobeMulti,
  type FeatureResult,
} from "../../src/kernel/features/index.js";
import {
  AttachType,
  BpfCmd,
  MAP_CREATE_ATTR,
  MapType,
  ProgFlags,
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

/** Loads `insns` (RETURN_ZERO by default) as `type`; returns the fd, or the failure's reason. */
function loadTrivial(
  type: ProgramType,
  extra: { expected_attach_type?: number; attach_btf_id?: number } = {},
  insns: Uint8Array = RETURN_ZERO,
): number | string {
  const { ret } = progLoadRaw({
    prog_type: type,
    insn_cnt: insns.length / 8,
    insns,
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

/**
 * Loads a sleepable syscall program that uses a queue map. Older kernels (6.1) refuse it:
 * "Sleepable programs can only use array, hash, and ringbuf maps".
 */
function sleepableQueueProgram(): FeatureStatus {
  const map = bpfRaw(BpfCmd.MAP_CREATE, MAP_CREATE_ATTR, {
    map_type: MapType.QUEUE,
    key_size: 0,
    value_size: 4,
    max_entries: 1,
  });
  if (map.ret < 0) return absent(`creating a queue map fails with ${errnoName(map.ret)}`);
  try {
    const insns = encode(new ProgramBuilder().ldMapFd(R1, map.ret).mov(R0, 0).exit().build());
    const log = new Uint8Array(4096);
    const { ret } = progLoadRaw({
      prog_type: ProgramType.SYSCALL,
      prog_flags: ProgFlags.SLEEPABLE,
      insn_cnt: insns.byteLength / 8,
      insns,
      license: "GPL",
      log_level: 1,
      log_size: log.byteLength,
      log_buf: log,
    });
    if (ret >= 0) {
      syscalls().close(ret);
      return present("a sleepable syscall program using a queue map loads");
    }
    const nul = log.indexOf(0);
    const text = new TextDecoder().decode(log.subarray(0, nul < 0 ? log.length : nul)).split("\n")[0];
    return absent(`a sleepable syscall program using a queue map fails with ${errnoName(ret)}: ${text}`);
  } finally {
    syscalls().close(map.ret);
  }
}

/** A probe of src/kernel/features (the library's own answer, used by its NotSupportedErrors). */
const library = (description: string, probe: () => FeatureResult): FeatureProbe => ({
  description,
  probe: () => {
    const r = probe();
    return r.supported ? present(r.detail) : absent(r.detail);
  },
});

export const FEATURES = {
  kprobe: library("kprobe/kretprobe through the perf 'kprobe' PMU", probeKprobePmu),
  "kprobe-events": library("kprobes created through tracefs kprobe_events", probeKprobeEvents),
  "kprobe-multi": library("kprobe.multi links (5.18, CONFIG_FPROBE)", probeKprobeMulti),
  trampoline: {
    description: "BPF trampolines: an fentry program attaches",
    probe: () =>
      attachBtfProgram(ProgramType.TRACING, AttachType.TRACE_FENTRY, ["bpf_fentry_test1", "do_sys_openat2"]),
  },
  lsm: {
    description: "BPF LSM: an lsm program attaches ('bpf' is an active LSM)",
    probe: () => {
      const lsms = existsSync("/sys/kernel/security/lsm")
        ? readFileSync("/sys/kernel/security/lsm", "utf8")
        : undefined;
      if (lsms !== undefined && !lsms.split(",").includes("bpf"))
        return absent(`'bpf' is not an active LSM (${lsms.trim()})`);
      return attachBtfProgram(ProgramType.LSM, AttachType.LSM_MAC, ["bpf_lsm_file_open"]);
    },
  },
  "uprobe-multi": library("uprobe.multi links (6.6)", probeUprobeMulti),
  tcx: library("tcx links (6.6)", probeTcx),
  netkit: library("netkit links (6.7)", probeNetkit),
  netfilter: library("netfilter programs and links (6.4)", () => probeProgramType(ProgramType.NETFILTER)),
  "cpu-v4": {
    description: "cpu v4 instructions: sign extension, bswap, sdiv/smod, gotol (6.6)",
    probe: () => {
      const insns = encode(new ProgramBuilder().mov(R0, 0).movsx(R0, R0, 8).exit().build());
      const fd = loadTrivial(ProgramType.SOCKET_FILTER, {}, insns);
      if (typeof fd === "string") return absent(`${fd} (movsx r0, r0, 8)`);
      syscalls().close(fd);
      return present("a socket filter with movsx loads");
    },
  },
  "sleepable-any-map": {
    description: "sleepable programs may use any map type (6.1 allows only array, hash and ringbuf)",
    probe: sleepableQueueProgram,
  },
  "open-coded-iter": {
    description: "open-coded iterators: the bpf_iter_num_* kfuncs (6.4)",
    probe: () => {
      const f = kernelFunc(["bpf_iter_num_new"]);
      return typeof f === "string" ? absent(f) : present(`kfunc ${f.name} is in the kernel's BTF`);
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
