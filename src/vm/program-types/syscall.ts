/**
 * BPF_PROG_TYPE_SYSCALL: run from user space only; the context is whatever bytes the caller gives
 * (ctx_in, at most U16_MAX bytes, read and written freely, copied back as ctx_out); without ctx_in
 * r1 is NULL.
 */
import { ProgramType } from "../../object/types.js";
import { BASE_HELPERS, COMMON_KFUNCS, TASK_HELPER_NAMES } from "./helper-sets.js";
import { prepareRawContext } from "./raw-context.js";
import type { ProgramTypeDef } from "./types.js";

export const syscall: ProgramTypeDef = {
  name: "syscall",
  kernelType: ProgramType.SYSCALL,
  context: { name: "syscall context", size: 0xffff, vmSize: 0xffff },
  helpers: [
    ...BASE_HELPERS,
    ...TASK_HELPER_NAMES,
    "bpf_sys_bpf",
    "bpf_sys_close",
    "bpf_kallsyms_lookup_name",
  ],
  kfuncs: COMMON_KFUNCS,
  describeReturn: (r) => `${r | 0}`,
  prepare: (memory, env, input) =>
    prepareRawContext(memory, env, input, {
      typeName: "syscall",
      maxSize: 0xffff,
      nullWithoutCtx: true,
      writable: true,
    }),
};
