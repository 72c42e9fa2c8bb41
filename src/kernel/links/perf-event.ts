import { TsbpfError } from "../../errors.js";
import { onlineCpus, openPerfEvent } from "../perf/event.js";
import type { KernelProgram } from "../program.js";
import { PerfAttrFlag, PerfType } from "../sys/perf-event-attr.js";
import { MultiLink, closeAll, type Link } from "./link.js";
import { attachToPerfEvent } from "./perf-event-link.js";

/** A sampling event for a perf_event program (BPF_PROG_TYPE_PERF_EVENT). */
export interface PerfEventOptions {
  /** PerfType.SOFTWARE (default) or PerfType.HARDWARE (or HW_CACHE / RAW). */
  type?: PerfType;
  /** PerfSwConfig.* / PerfHwConfig.* (default PerfSwConfig.CPU_CLOCK = 0). */
  config?: number | bigint;
  /** Run the program every N events (e.g. every N ns of cpu-clock). Give this or sampleFreq. */
  samplePeriod?: number | bigint;
  /** Run the program N times per second (frequency mode). */
  sampleFreq?: number;
  /** Only this process (default: all, -1). */
  pid?: number;
  /** CPUs to sample on (default: every online CPU). */
  cpus?: readonly number[];
  /** bpf_get_attach_cookie() value. Needs 5.15. */
  cookie?: bigint | number;
}

/**
 * Attaches a perf_event program to a sampling event on every CPU (perf_event_open per CPU, then
 * a BPF perf_event link each, 5.15; PERF_EVENT_IOC_SET_BPF before): one MultiLink of per-CPU links.
 */
export function attachPerfEvent(prog: KernelProgram | number, options: PerfEventOptions): MultiLink {
  if ((options.samplePeriod === undefined) === (options.sampleFreq === undefined))
    throw new TsbpfError("perf_event: give exactly one of samplePeriod and sampleFreq");
  const type = options.type ?? PerfType.SOFTWARE;
  const config = options.config ?? 0;
  const freq = options.sampleFreq !== undefined;
  const what = `perf_event type ${PerfType[type]?.toLowerCase() ?? type} config ${config}`;
  const links: Link[] = [];
  try {
    for (const cpu of options.cpus ?? onlineCpus()) {
      const fd = openPerfEvent(
        {
          type,
          config,
          sample_period: freq ? options.sampleFreq : options.samplePeriod,
          flags: freq ? PerfAttrFlag.FREQ : 0,
        },
        { pid: options.pid ?? -1, cpu },
        `open ${what} on CPU ${cpu}`,
      );
      links.push(
        attachToPerfEvent(prog, fd, {
          kind: "perf_event",
          cookie: options.cookie,
          context: `${what} on CPU ${cpu}`,
        }),
      );
    }
  } catch (e) {
    try {
      closeAll(links);
    } catch {
      // the attach error matters more
    }
    throw e;
  }
  return new MultiLink("perf_event", links);
}
