/** Current-task helpers, from the env's TaskContext. */
import { envOf, type RuntimeHelper } from "./common.js";

/** TASK_COMM_LEN: comm buffers are 16 bytes with the NUL. */
export const TASK_COMM_LEN = 16;

const u32 = (v: number): bigint => BigInt(v >>> 0);

export const TASK_HELPERS: readonly RuntimeHelper[] = [
  {
    name: "bpf_get_current_pid_tgid",
    fn: (call) => {
      const t = envOf(call).task;
      return (u32(t.tgid) << 32n) | u32(t.pid);
    },
  },
  {
    name: "bpf_get_current_uid_gid",
    fn: (call) => {
      const t = envOf(call).task;
      return (u32(t.gid) << 32n) | u32(t.uid);
    },
  },
  {
    // long bpf_get_current_comm(void *buf, u32 size_of_buf): strscpy_pad of task->comm
    name: "bpf_get_current_comm",
    fn: (call) => {
      const size = call.argU32(2);
      if (size === 0) return 0;
      const out = call.memory.view(call.arg(1), size, true);
      const comm = new TextEncoder().encode(envOf(call).task.comm).subarray(0, TASK_COMM_LEN - 1);
      out.fill(0);
      out.set(comm.subarray(0, size - 1));
      return 0;
    },
  },
  {
    // long bpf_kallsyms_lookup_name(const char *name, int name_sz, int flags, u64 *res): the VM has no kernel symbols
    name: "bpf_kallsyms_lookup_name",
    fn: (call) => {
      if (call.argU32(3) !== 0 || (call.argU32(2) | 0) <= 1) return -22; // -EINVAL
      call.memory.view(call.arg(4), 8, true).fill(0);
      return -2; // -ENOENT
    },
  },
  { name: "bpf_get_current_task", fn: (call) => envOf(call).currentTaskAddress() },
  { name: "bpf_get_current_task_btf", fn: (call) => envOf(call).currentTaskAddress() },
];
