/** The userspace runtime: load objects or raw programs, run them like BPF_PROG_TEST_RUN, hooks, captures. */
export { VmRuntime, type VmRuntimeOptions, type LoadProgramOptions } from "./runtime.js";
export { VmObject, ProgramUnavailableError, type LoadVmObjectOptions } from "./object.js";
export { VmProgram, type TestRunResult, type TestRunOptions } from "./program.js";
export { Hook, type HookLink, type HookResult } from "./hook.js";
export {
  RuntimeEnv,
  Prandom,
  hostClock,
  fixedClock,
  hostTask,
  DEFAULT_HZ,
  type Clock,
  type TaskContext,
  type TraceSink,
  type PacketState,
  type RedirectTarget,
  type RuntimeEnvOptions,
} from "./env.js";
export {
  convertContextAccess,
  describeLayout,
  ContextAccessError,
  type ContextLayout,
  type ContextField,
  type ContextAccessKind,
} from "./ctx-access.js";
export { runCapture, type CaptureRunResult } from "./pcap-run.js";
export { dumpMap, dumpMaps, type MapEntryDump } from "./map-dump.js";
export { createTaskStruct, type TaskRegions } from "./task-struct.js";
