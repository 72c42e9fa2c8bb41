export {
  Interpreter,
  DEFAULT_BUDGET,
  DEFAULT_MAY_GOTO_BUDGET,
  MAX_TAIL_CALLS,
  type InterpreterOptions,
  type RunOptions,
  type RunResult,
  type RegisterValues,
} from "./interpreter.js";
export { FUNCTION_POINTER_TAG, type PseudoResolver, type KfuncResolver } from "./interp-load.js";
export { Memory, Region, type RegionKind, type RegionSpec } from "./memory.js";
export {
  VmFault,
  MemoryAccessError,
  ProgramLoadError,
  describeInstruction,
  type FaultKind,
} from "./fault.js";
export {
  HelperRegistry,
  unwindHelper,
  CONFORMANCE_UNWIND_HELPER_ID,
  type HelperArg,
  type HelperCall,
  type HelperEntry,
  type HelperFunction,
} from "./helper-registry.js";
export type { TraceEvent, TraceFunction, RegisterChange } from "./trace.js";
export * from "./maps/index.js";
export * from "./runtime/index.js";
export * from "./program-types/index.js";
export * from "./pcap/index.js";
export {
  RUNTIME_HELPERS,
  RUNTIME_KFUNCS,
  allHelpers,
  helperRegistryFor,
  formatBpf,
} from "./helpers/index.js";
