import { existsSync, readFileSync } from "node:fs";
import { NotSupportedError, TsbpfError } from "../../errors.js";
import { openPerfEvent } from "../perf/event.js";
import type { KernelProgram } from "../program.js";
import { cString } from "../sys/index.js";
import { PerfType } from "../sys/perf-event-attr.js";
import { systemTracefs, type Tracefs } from "../tracefs.js";
import { attachToPerfEvent, type PerfEventLink } from "./perf-event-link.js";

/** Where dynamic PMUs (kprobe, uprobe) describe themselves. */
export const EVENT_SOURCE_DIR = "/sys/bus/event_source/devices";
/** The tracefs group of the events tsbpf creates in kprobe_events. */
export const KPROBE_EVENT_GROUP = "kprobes";

/** How a kprobe is created. */
export type ProbeMode =
  /** The kprobe PMU when the kernel has one (4.17), else tracefs kprobe_events. */
  | "auto"
  /** perf_event_open on the kprobe PMU only. */
  | "pmu"
  /** tracefs kprobe_events only (the legacy way, any kernel with CONFIG_KPROBE_EVENTS). */
  | "tracefs";

/** Where and how to attach a kprobe or kretprobe (BPF_PROG_TYPE_KPROBE). */
export interface KprobeOptions {
  /** The kernel function (a symbol of /proc/kallsyms). */
  symbol: string;
  /** Byte offset inside the function (kprobes only, not kretprobes). */
  offset?: number;
  /** bpf_get_attach_cookie() value. Needs 5.15 (and the PMU path). */
  cookie?: bigint | number;
  /** kretprobes: how many instances may be in flight (tracefs path only, "rN:"). */
  maxActive?: number;
  probeMode?: ProbeMode;
  /** The tracefs for the legacy path (default: the system's). */
  tracefs?: Tracefs;
  /** The dynamic PMU directory (default /sys/bus/event_source/devices). */
  eventSourceDir?: string;
}

/** A dynamic PMU (kprobe, uprobe): its perf type and the config bit that makes a return probe. */
export interface DynamicPmu {
  readonly type: number;
  readonly retprobeBit: number;
}

/** Reads a dynamic PMU's type and its "retprobe" format bit; undefined when the kernel has none. */
export function dynamicPmu(name: string, dir = EVENT_SOURCE_DIR): DynamicPmu | undefined {
  const typePath = `${dir}/${name}/type`;
  if (!existsSync(typePath)) return undefined;
  const type = Number(readFileSync(typePath, "utf8").trim());
  let retprobeBit = 0;
  try {
    // "config:0"
    const m = /config:(\d+)/.exec(readFileSync(`${dir}/${name}/format/retprobe`, "utf8"));
    if (m) retprobeBit = Number(m[1]);
  } catch {
    // kernels without the format file use bit 0
  }
  return { type, retprobeBit };
}

/** The error of a kernel without kprobes. */
export function noKprobesError(detail: string): NotSupportedError {
  return new NotSupportedError("kprobes", `kernel built without kprobes (CONFIG_KPROBES): ${detail}`);
}

let eventCounter = 0;

/** A tracefs event name unique to this process: tsbpf_PID_SYMBOL_N (at most 64 characters). */
export function probeEventName(symbol: string): string {
  const clean = symbol.replace(/[^A-Za-z0-9_]/g, "_");
  const suffix = `_${eventCounter++}`;
  return `tsbpf_${process.pid}_${clean}`.slice(0, 64 - suffix.length) + suffix;
}

/** The kprobe_events line defining a probe: "p:kprobes/EVENT FUNC[+OFF]" or "r[N]:kprobes/EVENT FUNC". */
export function kprobeDefinition(
  event: string,
  symbol: string,
  ret: boolean,
  offset = 0,
  maxActive = 0,
): string {
  const kind = ret ? `r${maxActive || ""}` : "p";
  return `${kind}:${KPROBE_EVENT_GROUP}/${event} ${symbol}${offset ? `+${offset}` : ""}`;
}

/** The kprobe_events line removing a probe: "-:kprobes/EVENT". */
export const kprobeRemoval = (event: string): string => `-:${KPROBE_EVENT_GROUP}/${event}`;

const SYMBOL = /^[A-Za-z0-9_.$]+$/;

/** Attaches a program to the entry (or `offset` bytes into) a kernel function. */
export function attachKprobe(prog: KernelProgram | number, options: KprobeOptions): PerfEventLink {
  return attachProbe(prog, options, false);
}

/** Attaches a program to the return of a kernel function. */
export function attachKretprobe(prog: KernelProgram | number, options: KprobeOptions): PerfEventLink {
  return attachProbe(prog, options, true);
}

function attachProbe(prog: KernelProgram | number, options: KprobeOptions, ret: boolean): PerfEventLink {
  const kind = ret ? "kretprobe" : "kprobe";
  const { symbol } = options;
  if (!SYMBOL.test(symbol)) throw new TsbpfError(`${kind}: bad kernel symbol '${symbol}'`);
  if (ret && options.offset) throw new TsbpfError(`${kind} ${symbol}: a return probe takes no offset`);
  const mode = options.probeMode ?? "auto";
  const pmu = mode === "tracefs" ? undefined : dynamicPmu("kprobe", options.eventSourceDir);
  if (pmu) {
    const fd = openPerfEvent(
      {
        type: pmu.type,
        config: ret ? 1n << BigInt(pmu.retprobeBit) : 0,
        kprobe_func: cString(symbol),
        probe_offset: options.offset ?? 0,
        sample_period: 1,
        wakeup_events: 1,
      },
      { pid: -1, cpu: 0 },
      `open ${kind} ${symbol}`,
    );
    return attachToPerfEvent(prog, fd, { kind, cookie: options.cookie, context: `${kind} ${symbol}` });
  }
  if (mode === "pmu")
    throw noKprobesError(`no kprobe PMU (${options.eventSourceDir ?? EVENT_SOURCE_DIR}/kprobe)`);
  return attachThroughTracefs(prog, options, ret, kind);
}

/**
 * The legacy way: append "p:kprobes/EVENT FUNC" to tracefs kprobe_events, read the event's id,
 * perf_event_open(PERF_TYPE_TRACEPOINT, id), PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF; the
 * event is removed ("-:kprobes/EVENT") when the link closes or when a later step fails.
 */
function attachThroughTracefs(
  prog: KernelProgram | number,
  options: KprobeOptions,
  ret: boolean,
  kind: string,
): PerfEventLink {
  let tracefs: Tracefs;
  try {
    tracefs = options.tracefs ?? systemTracefs();
  } catch (e) {
    throw noKprobesError(`no kprobe PMU and no tracefs (${(e as Error).message})`);
  }
  if (!tracefs.exists("kprobe_events")) {
    throw noKprobesError(
      `no kprobe PMU (${options.eventSourceDir ?? EVENT_SOURCE_DIR}/kprobe) and no ${tracefs.path("kprobe_events")}`,
    );
  }
  if (options.cookie) {
    throw new NotSupportedError(
      "attach cookies on kprobe_events probes",
      "they need the kprobe PMU (4.17) and 5.15",
    );
  }
  const event = probeEventName(options.symbol);
  tracefs.append(
    "kprobe_events",
    kprobeDefinition(event, options.symbol, ret, options.offset, options.maxActive),
  );
  const remove = (): void => tracefs.append("kprobe_events", kprobeRemoval(event));
  let fd: number;
  try {
    const id = tracefs.eventId(KPROBE_EVENT_GROUP, event);
    fd = openPerfEvent(
      { type: PerfType.TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1 },
      { pid: -1, cpu: 0 },
      `open ${kind} event ${KPROBE_EVENT_GROUP}/${event}`,
    );
  } catch (e) {
    try {
      remove();
    } catch {
      // report the first failure
    }
    throw e;
  }
  return attachToPerfEvent(prog, fd, {
    kind,
    mode: "ioctl",
    cleanup: remove,
    context: `${kind} ${options.symbol} (${KPROBE_EVENT_GROUP}/${event})`,
  });
}
