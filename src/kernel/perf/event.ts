import { readFileSync } from "node:fs";
import { SyscallError } from "../errors.js";
import { cString } from "../sys/bpf.js";
import { encodeStruct, type Encodable } from "../sys/layout.js";
import { PERF_EVENT_ATTR, PERF_FLAG_FD_CLOEXEC, PerfIoctl } from "../sys/perf-event-attr.js";
import { syscalls } from "../sys/syscalls.js";

/** Where a perf event counts: a process (pid, -1 for all) on a CPU (-1 for all). */
export interface PerfEventTarget {
  pid?: number;
  cpu?: number;
  groupFd?: number;
}

/**
 * perf_event_open(2) with a struct perf_event_attr given by field (size is filled in); the fd is
 * close-on-exec. `context` names what was being opened in the SyscallError.
 */
export function openPerfEvent(
  attr: Encodable<typeof PERF_EVENT_ATTR>,
  target: PerfEventTarget = {},
  context?: string,
): number {
  const sys = syscalls();
  const plain: Record<string, number | bigint | undefined> = { size: PERF_EVENT_ATTR.size };
  // String pointers (kprobe_func, uprobe_path) stay alive in `keep` until the call returns.
  const keep: Uint8Array[] = [];
  for (const [name, value] of Object.entries(attr)) {
    if (value instanceof Uint8Array || typeof value === "string") {
      const bytes = typeof value === "string" ? cString(value) : value;
      keep.push(bytes);
      plain[name] = sys.addressOf(bytes);
    } else if (name !== "size") {
      plain[name] = value as number | bigint | undefined;
    }
  }
  const bytes = encodeStruct(PERF_EVENT_ATTR, plain);
  const fd = sys.perfEventOpen(
    bytes,
    target.pid ?? -1,
    target.cpu ?? 0,
    target.groupFd ?? -1,
    PERF_FLAG_FD_CLOEXEC,
  );
  keep.length = 0;
  if (fd < 0) throw new SyscallError("perf_event_open", -fd, { context, hint: perfHint(-fd) });
  return fd;
}

function perfHint(errno: number): string | undefined {
  const hints: Record<number, string> = {
    1: "needs root or CAP_PERFMON (see kernel.perf_event_paranoid)",
    2: "no such event (check the tracepoint / probe name)",
    13: "needs root or CAP_PERFMON (see kernel.perf_event_paranoid)",
    19: "the CPU is offline or the PMU has no such event on this machine",
    22: "the kernel rejected a field of perf_event_attr",
    95: "this event is not supported by this PMU",
  };
  return hints[errno];
}

/** ioctl on a perf event fd; SyscallError naming the request on failure. */
export function perfIoctl(fd: number, request: PerfIoctl, arg: number = 0, context?: string): void {
  const ret = syscalls().ioctl(fd, request, arg);
  if (ret < 0) throw new SyscallError(`ioctl(PERF_EVENT_IOC_${PerfIoctl[request]})`, -ret, { context });
}

let cachedPageSize: number | undefined;

/** The system page size, from the auxiliary vector (AT_PAGESZ); 4096 when it cannot be read. */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  cachedPageSize = 4096;
  try {
    const auxv = readFileSync("/proc/self/auxv");
    const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
    for (let at = 0; at + 16 <= auxv.byteLength; at += 16) {
      const type = view.getBigUint64(at, true);
      if (type === 0n) break;
      if (type === 6n /* AT_PAGESZ */) cachedPageSize = Number(view.getBigUint64(at + 8, true));
    }
  } catch {
    // not Linux, or /proc missing: keep the default
  }
  return cachedPageSize;
}

/** CPUs that are online now (/sys/devices/system/cpu/online), e.g. [0, 1]. */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
}

/** Parses a kernel CPU list ("0-3,6,8-9"). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const [lo, hi] = part.split("-").map(Number);
    for (let c = lo!; c <= (hi ?? lo!); c++) out.push(c);
  }
  return out;
}
