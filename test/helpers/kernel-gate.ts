import { describe, test, type TestContext } from "node:test";
import { BpfCmd, MAP_CREATE_ATTR, MapType, encodeStruct, libcSyscalls } from "../../src/kernel/sys/index.js";
import { REQUIRES_PREFIX, missingFeatures, presentFeatures, type Feature } from "./requires.js";

/**
 * Gate for tests that need the running kernel (bpf(2), bpffs, netns). They run when the
 * process can use bpf(2); otherwise they are skipped with the reason, except when
 * TSBPF_KERNEL_TESTS=require, where a test that would be skipped fails instead.
 */

let probed: { usable: true } | { usable: false; reason: string } | undefined;

/** Whether bpf(2) works here (probed once by creating and closing a one-element array map). */
export function kernelStatus(): { usable: true } | { usable: false; reason: string } {
  if (probed) return probed;
  if (process.platform !== "linux")
    return (probed = { usable: false, reason: `not Linux (${process.platform})` });
  try {
    const sys = libcSyscalls();
    const attr = encodeStruct(MAP_CREATE_ATTR, {
      map_type: MapType.ARRAY,
      key_size: 4,
      value_size: 4,
      max_entries: 1,
    });
    const fd = sys.bpf(BpfCmd.MAP_CREATE, attr);
    if (fd < 0) {
      const who = process.getuid?.() === 0 ? "root" : "not root";
      return (probed = { usable: false, reason: `bpf(BPF_MAP_CREATE) fails with errno ${-fd} (${who})` });
    }
    sys.close(fd);
    return (probed = { usable: true });
  } catch (e) {
    return (probed = { usable: false, reason: `syscall layer unavailable: ${(e as Error).message}` });
  }
}

const required = (): boolean => process.env.TSBPF_KERNEL_TESTS === "require";

/**
 * Kernel features the test needs (requires.ts). Where the kernel lacks one the test is skipped
 * with "requires <feature> (why)", even under TSBPF_KERNEL_TESTS=require: running it on a
 * kernel that has the feature is the kernel matrix's job (npm run test:kernels).
 */
export interface KernelTestOptions {
  readonly requires?: readonly Feature[];
  /** Features the kernel must NOT have (tests of the error their absence gives). */
  readonly lacks?: readonly Feature[];
}

/** Why a usable kernel cannot run a test with these options, or undefined. */
const featureSkip = (o: KernelTestOptions): string | undefined =>
  (o.requires && missingFeatures(o.requires)) ?? (o.lacks && presentFeatures(o.lacks));

type TestFn = (t: TestContext) => void | Promise<void>;

/**
 * Tells the kernel matrix's reporter (test/vm-matrix/reporter.ts) which kernel features a running
 * test needs: when it passes, it counts as proof that tsbpf works with them on this kernel.
 */
export function provesFeatures(t: TestContext, features: readonly Feature[]): void {
  if (features.length) t.diagnostic(REQUIRES_PREFIX + features.join(", "));
}

/** A test that needs the kernel: runs, skips with the reason, or fails when the kernel is required. */
export function kernelTest(name: string, fn: TestFn): void;
export function kernelTest(name: string, options: KernelTestOptions, fn: TestFn): void;
export function kernelTest(name: string, a: TestFn | KernelTestOptions, b?: TestFn): void {
  const [options, fn] = typeof a === "function" ? [{}, a] : [a, b!];
  const status = kernelStatus();
  const missing = status.usable ? featureSkip(options) : undefined;
  if (missing) {
    test(name, { skip: missing }, () => {});
  } else if (status.usable) {
    const features = options.requires ?? [];
    test(name, features.length ? (t) => (provesFeatures(t, features), fn(t)) : fn);
  } else if (required()) {
    test(name, () => {
      throw new Error(`TSBPF_KERNEL_TESTS=require but the kernel is unusable: ${status.reason}`);
    });
  } else {
    test(name, { skip: `needs bpf(2): ${status.reason}` }, () => {});
  }
}

/** A suite whose tests all need the kernel (same rules as kernelTest). */
export function describeKernel(name: string, fn: () => void): void;
export function describeKernel(name: string, options: KernelTestOptions, fn: () => void): void;
export function describeKernel(name: string, a: (() => void) | KernelTestOptions, b?: () => void): void {
  const [options, fn] = typeof a === "function" ? [{}, a] : [a, b!];
  const status = kernelStatus();
  const missing = status.usable ? featureSkip(options) : undefined;
  if (missing) {
    describe(name, { skip: missing }, () => {});
  } else if (status.usable) {
    describe(name, fn);
  } else if (required()) {
    describe(name, () => {
      test("kernel available", () => {
        throw new Error(`TSBPF_KERNEL_TESTS=require but the kernel is unusable: ${status.reason}`);
      });
    });
  } else {
    describe(name, { skip: `needs bpf(2): ${status.reason}` }, () => {});
  }
}

/** A name no other test run uses: prefix, pid and a counter (kernel names are at most 15 chars). */
let counter = 0;
export function uniqueName(prefix: string): string {
  const suffix = `${(process.pid % 46656).toString(36)}${(counter++).toString(36)}`;
  return `${prefix.slice(0, 15 - suffix.length - 1)}_${suffix}`;
}
