/**
 * BPF_PROG_TYPE_TRACEPOINT: the context is the event's record (struct trace_event_raw_*); its
 * first 8 bytes (the common fields) are not readable, the rest is read-only (tp_prog_is_valid_access).
 * The kernel has no test run for this type: in the VM the host supplies the record bytes.
 * A return value of 0 keeps the event out of the trace buffer.
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, TRACING_HELPERS } from "./helper-sets.js";
import { prepareRawContext } from "./raw-context.js";
import type { ProgramTypeDef } from "./types.js";

/** PERF_MAX_TRACE_SIZE. */
const MAX_RECORD = 2048;

export const tracepoint: ProgramTypeDef = {
  name: "tracepoint",
  kernelType: ProgramType.TRACEPOINT,
  context: {
    name: "tracepoint record",
    size: MAX_RECORD,
    vmSize: MAX_RECORD,
    fields: [{ name: "record fields", offset: 8, size: MAX_RECORD - 8, access: "read", narrow: true }],
  },
  helpers: [...BASE_HELPERS, ...TRACING_HELPERS],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${r | 0}`,
  prepare: (memory, env, input) =>
    prepareRawContext(memory, env, input, { typeName: "tracepoint", maxSize: MAX_RECORD, writable: false }),
};
