import { NotSupportedError, TsbpfError } from "../../errors.js";
import { openPerfEvent } from "../perf/event.js";
import type { KernelProgram } from "../program.js";
import { resolveBinaryPath } from "../uprobe/resolve.js";
import { symbolFileOffset } from "../uprobe/symbol-offset.js";
import { EVENT_SOURCE_DIR, dynamicPmu } from "./kprobe.js";
import { attachToPerfEvent, type PerfEventLink } from "./perf-event-link.js";

/** PERF_UPROBE_REF_CTR_OFFSET_SHIFT: the reference counter offset lives in config bits 32..63. */
const REF_CTR_OFFSET_SHIFT = 32n;

/** Where to attach a uprobe or uretprobe (BPF_PROG_TYPE_KPROBE on a user binary). */
export interface UprobeOptions {
  /** The binary: a path, or a library name ("c", "libssl.so.3") found in /proc/PID/maps or ld.so.cache. */
  target: string;
  /** A function symbol of the binary (.symtab or .dynsym); or give `offset` alone. */
  symbol?: string;
  /** File offset of the probe; with `symbol`, added to the symbol's offset. */
  offset?: number;
  /** Only this process (default: every process running the binary). */
  pid?: number;
  /** Offset of a USDT semaphore (reference counter) in the file. Needs 4.20. */
  refCtrOffset?: number;
  /** bpf_get_attach_cookie() value. Needs 5.15. */
  cookie?: bigint | number;
  /** The dynamic PMU directory (default /sys/bus/event_source/devices). */
  eventSourceDir?: string;
}

/** The binary path and file offset a uprobe option set designates. */
export function uprobeLocation(options: Pick<UprobeOptions, "target" | "symbol" | "offset" | "pid">): {
  path: string;
  offset: number;
} {
  const path = resolveBinaryPath(options.target, options.pid);
  if (options.symbol === undefined && options.offset === undefined)
    throw new TsbpfError(`uprobe on ${path}: give a symbol or an offset`);
  const base = options.symbol !== undefined ? symbolFileOffset(path, options.symbol).offset : 0;
  return { path, offset: base + (options.offset ?? 0) };
}

/** Attaches a program to a user-space function's entry (uprobe PMU, 4.17). */
export function attachUprobe(prog: KernelProgram | number, options: UprobeOptions): PerfEventLink {
  return attach(prog, options, false);
}

/** Attaches a program to a user-space function's return. */
export function attachUretprobe(prog: KernelProgram | number, options: UprobeOptions): PerfEventLink {
  return attach(prog, options, true);
}

function attach(prog: KernelProgram | number, options: UprobeOptions, ret: boolean): PerfEventLink {
  const kind = ret ? "uretprobe" : "uprobe";
  const pmu = dynamicPmu("uprobe", options.eventSourceDir);
  if (!pmu) {
    throw new NotSupportedError(
      "uprobes",
      `no uprobe PMU (${options.eventSourceDir ?? EVENT_SOURCE_DIR}/uprobe): kernel built without CONFIG_UPROBE_EVENTS or older than 4.17`,
    );
  }
  const { path, offset } = uprobeLocation(options);
  const where = `${kind} ${path}:${options.symbol ?? ""}${options.offset ? `+0x${options.offset.toString(16)}` : ""}`;
  let config = ret ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (options.refCtrOffset) config |= BigInt(options.refCtrOffset) << REF_CTR_OFFSET_SHIFT;
  const pid = options.pid ?? -1;
  const fd = openPerfEvent(
    { type: pmu.type, config, uprobe_path: path, probe_offset: offset, sample_period: 1, wakeup_events: 1 },
    // A process-wide probe on every CPU, or every process on CPU 0 (the event is not per-CPU).
    { pid, cpu: pid >= 0 ? -1 : 0 },
    `open ${where}`,
  );
  return attachToPerfEvent(prog, fd, { kind, cookie: options.cookie, context: where });
}
