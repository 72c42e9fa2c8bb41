/**
 * BPF_PROG_TYPE_RAW_TRACEPOINT: the context is the tracepoint's arguments as u64s (at most 12,
 * MAX_BPF_FUNC_ARGS), read-only; test runs give them in ctx_in. The return value is ignored by
 * the kernel.
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, TRACING_HELPERS } from "./helper-sets.js";
import { prepareRawContext } from "./raw-context.js";
import type { ProgramTypeDef } from "./types.js";

const MAX_ARGS_BYTES = 12 * 8;

export const rawTracepoint: ProgramTypeDef = {
  name: "raw_tracepoint",
  kernelType: ProgramType.RAW_TRACEPOINT,
  context: {
    name: "raw tracepoint arguments",
    size: MAX_ARGS_BYTES,
    vmSize: MAX_ARGS_BYTES,
    fields: [{ name: "args", offset: 0, size: MAX_ARGS_BYTES, access: "read", narrow: true }],
  },
  helpers: [...BASE_HELPERS, ...TRACING_HELPERS],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${r | 0}`,
  prepare: (memory, env, input) =>
    prepareRawContext(memory, env, input, {
      typeName: "raw_tracepoint",
      maxSize: MAX_ARGS_BYTES,
      writable: false,
    }),
};
