/** The built-in program types of the VM, by libbpf name and by kernel enum value. */
import { ProgramType } from "../../object/types.js";
import { cgroupSkb } from "./cgroup-skb.js";
import { perfEvent } from "./perf-event.js";
import { rawTracepoint } from "./raw-tracepoint.js";
import { schedCls } from "./sched-cls.js";
import { socketFilter } from "./socket-filter.js";
import { syscall } from "./syscall.js";
import { tracepoint } from "./tracepoint.js";
import type { ProgramTypeDef } from "./types.js";
import { xdp } from "./xdp.js";

export { defineProgramType, type CustomProgramTypeOptions, type CustomContextField } from "./custom.js";
export { TestRunInputError } from "./errors.js";
export type { ProgramTypeDef, PreparedRun, TestRunInput, PacketVerdict } from "./types.js";
export { XdpAction, XDP_PACKET_HEADROOM, XDP_MD_LAYOUT } from "./xdp.js";
export { TcAction } from "./sched-cls.js";
export { SkBuff, SK_BUFF_SIZE, skbLayout } from "./skb-context.js";
export { xdp, schedCls, socketFilter, cgroupSkb, syscall, rawTracepoint, tracepoint, perfEvent };

/** The built-in program types. */
export const PROGRAM_TYPES: readonly ProgramTypeDef[] = [
  socketFilter,
  xdp,
  schedCls,
  cgroupSkb,
  syscall,
  rawTracepoint,
  tracepoint,
  perfEvent,
];

/** The built-in type for a kernel program type or a libbpf name, if the VM has one. */
export function builtinProgramType(type: ProgramType | string): ProgramTypeDef | undefined {
  if (typeof type === "string") return PROGRAM_TYPES.find((t) => t.name === type);
  if (type === ProgramType.SCHED_ACT) return schedCls;
  return PROGRAM_TYPES.find((t) => t.kernelType === type);
}
