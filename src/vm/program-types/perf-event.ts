/**
 * BPF_PROG_TYPE_PERF_EVENT: the context is struct bpf_perf_event_data { struct pt_regs regs
 * (x86-64: 168 bytes); u64 sample_period; u64 addr; }, read-only. No kernel test run: the host
 * supplies the bytes.
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, TRACING_HELPERS } from "./helper-sets.js";
import { prepareRawContext } from "./raw-context.js";
import type { ProgramTypeDef } from "./types.js";

const PT_REGS_SIZE = 168;
const SIZE = PT_REGS_SIZE + 16;

export const perfEvent: ProgramTypeDef = {
  name: "perf_event",
  kernelType: ProgramType.PERF_EVENT,
  context: {
    name: "struct bpf_perf_event_data",
    size: SIZE,
    vmSize: SIZE,
    fields: [
      { name: "regs", offset: 0, size: PT_REGS_SIZE, access: "read", narrow: true },
      { name: "sample_period", offset: PT_REGS_SIZE, size: 8, access: "read", narrow: true },
      { name: "addr", offset: PT_REGS_SIZE + 8, size: 8, access: "read", narrow: true },
    ],
  },
  helpers: [...BASE_HELPERS, ...TRACING_HELPERS, "bpf_perf_prog_read_value"],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${r | 0}`,
  prepare: (memory, env, input) =>
    prepareRawContext(memory, env, input, {
      typeName: "perf_event",
      maxSize: SIZE,
      minSize: SIZE,
      writable: false,
    }),
};
