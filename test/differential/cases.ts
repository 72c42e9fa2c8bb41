/**
 * The differential cases: every program of bpf/corpus.json with a test run and every program
 * of the shared bench, with their inputs; the masks of kernel-only behaviour by program name,
 * and the differences that are VM bugs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { missingFeatures, type Feature } from "../helpers/requires.js";
import { repoRoot, sharedPath } from "../helpers/shared.js";

interface ManifestRun {
  readonly dataIn?: string;
  readonly ctxIn?: string;
  readonly retval: number;
}
interface Manifest {
  readonly objects: readonly {
    readonly object: string;
    readonly programs: readonly {
      readonly name: string;
      readonly type: string;
      readonly testRun?: ManifestRun;
    }[];
  }[];
}

/** A difference the kernel is entitled to, by program name: what is masked and why. */
interface Mask {
  /** Map (display name: ".bss" for global data) whose contents are not compared. */
  readonly maps?: readonly string[];
  readonly retval?: boolean;
  /**
   * Per-CPU values are compared as the multiset of their CPU slots: the kernel runs
   * BPF_PROG_TEST_RUN on whichever CPU the calling thread is on, the VM on CPU 0.
   */
  readonly cpuSlots?: boolean;
  readonly reason: string;
}

const CPU =
  "BPF_PROG_TEST_RUN runs on the CPU the calling thread happens to be on (the VM runs on CPU 0): per-CPU slots are compared as a multiset, not by CPU index";

/** Kernel-only behaviour, masked by program name (never by a blanket rule). */
export const MASKS: Readonly<Record<string, Mask>> = {
  time_helpers: {
    maps: [".bss"],
    reason:
      "bpf_ktime_get_ns / _boot_ns / _coarse_ns and bpf_jiffies64 read the kernel's clocks at run time; the VM reads the host's a moment later",
  },
  random_cpu_numa: {
    maps: [".bss"],
    reason:
      "bpf_get_prandom_u32 is random, and bpf_get_smp_processor_id is whichever CPU the kernel ran the test on",
  },
  task_walk: {
    maps: [".bss"],
    reason:
      "the number of tasks walked is the kernel's task list at that moment; the VM's task list is its own",
  },
  xdp_fib_lookup: { maps: [".bss"], reason: "the routing result depends on the host's routing table" },
  percpu_array_count: { cpuSlots: true, reason: CPU },
  percpu_hash_bytes: { cpuSlots: true, reason: CPU },
  lru_percpu_flows: { cpuSlots: true, reason: CPU },
  cmsketch: { cpuSlots: true, reason: CPU },
};

/**
 * Differences that are VM bugs (reported to the VM's owners): the test still runs and shows as
 * TODO until the VM is fixed, when it starts to pass.
 */
export const VM_BUGS: Readonly<Record<string, string>> = {};

/**
 * Kernel features a program needs that older kernels lack (test/helpers/requires.ts), by program
 * name: on a kernel without one, its case is skipped with the reason instead of failing.
 */
export const KERNEL_REQUIRES: Readonly<Record<string, readonly Feature[]>> = {
  // sleepable syscall programs using a queue / stack map: 6.1 refuses them
  queue_fifo: ["sleepable-any-map"],
  stack_lifo: ["sleepable-any-map"],
  open_coded_iter_1000: ["open-coded-iter"],
  // its bit 8 says struct bpf_iter_num exists (6.4, with the bpf_iter_num_* kfuncs)
  core_reads: ["open-coded-iter"],
  cpu_v4: ["cpu-v4"],
};

/** Why the running kernel cannot run this case (a feature it lacks), or undefined. Probes the kernel. */
export function kernelSkip(c: Case): string | undefined {
  return missingFeatures(c.runs.flatMap((r) => KERNEL_REQUIRES[r.program] ?? []));
}

const objects = (JSON.parse(readFileSync(join(repoRoot, "bpf", "corpus.json"), "utf8")) as Manifest).objects;

const bytesOf = (spec: string | undefined): Uint8Array | undefined =>
  spec === undefined
    ? undefined
    : spec.startsWith("@")
      ? new Uint8Array(readFileSync(join(repoRoot, spec.slice(1))))
      : new Uint8Array(Buffer.from(spec, "hex"));

export interface Case {
  readonly object: string;
  readonly runs: readonly {
    readonly program: string;
    readonly dataIn?: Uint8Array;
    readonly ctxIn?: Uint8Array;
    readonly expected?: number;
  }[];
}

export const CASES: Case[] = [
  ...objects
    .map((o) => ({
      object: join(repoRoot, o.object),
      runs: o.programs
        .filter((p) => p.testRun)
        .map((p) => ({
          program: p.name,
          ...(p.testRun!.dataIn ? { dataIn: bytesOf(p.testRun!.dataIn)! } : {}),
          ...(p.testRun!.ctxIn ? { ctxIn: bytesOf(p.testRun!.ctxIn)! } : {}),
          expected: p.testRun!.retval,
        })),
    }))
    .filter((c) => c.runs.length > 0),
  ...readdirSync(sharedPath("bench"))
    .filter((f) => f.endsWith(".bpf.o"))
    .sort()
    .map((f) => ({
      object: sharedPath("bench", f),
      runs: [
        {
          program: f.replace(".bpf.o", ""),
          dataIn: new Uint8Array(readFileSync(sharedPath("bench", "packets", "udp.bin"))),
        },
      ],
    })),
];
