/**
 * A task_struct for the current task, laid out by a BTF (the kernel's, usually) so that programs
 * reading it with CO-RE find what the current-task helpers report: pid, tgid, comm, cred->uid/gid
 * (and the other ids), a one-task `tasks` list (next and prev point at itself), group_leader
 * pointing at the task itself, real_parent and parent at the parent's task_struct (built the same
 * way). Everything else reads as zero.
 */
import type { Btf, BtfType } from "../../btf/index.js";
import type { Memory, Region } from "../memory.js";
import type { TaskContext } from "./env.js";

type Composite = BtfType & {
  readonly members: readonly { name: string; bitOffset: number }[];
  readonly size: number;
};

function struct(btf: Btf, name: string): Composite | undefined {
  const t = btf.typeByName(name, "struct");
  return t && "members" in t ? (t as Composite) : undefined;
}

const offsetOf = (s: Composite, member: string): number | undefined => {
  const m = s.members.find((x) => x.name === member);
  return m ? m.bitOffset / 8 : undefined;
};

export interface TaskRegions {
  readonly task: Region;
  readonly cred: Region | undefined;
  /** The parent's task_struct (task->real_parent), when the TaskContext has a parent. */
  readonly parent: TaskRegions | undefined;
}

/**
 * Map a task_struct (and its cred) for `task` into `memory`, and one for its parent (real_parent
 * and parent point at it; a task without a parent is its own); undefined when the BTF has no
 * task_struct.
 */
export function createTaskStruct(memory: Memory, btf: Btf, task: TaskContext): TaskRegions | undefined {
  const ts = struct(btf, "task_struct");
  if (!ts) return undefined;
  const parent = task.parent && createTaskStruct(memory, btf, task.parent);
  const region = memory.addRegion({ kind: "other", name: `task_struct (pid ${task.pid})`, length: ts.size });
  const v = new DataView(region.bytes.buffer);
  const set32 = (off: number | undefined, value: number): void => {
    if (off !== undefined) v.setUint32(off, value >>> 0, true);
  };
  const setPtr = (off: number | undefined, value: bigint): void => {
    if (off !== undefined) v.setBigUint64(off, value, true);
  };
  set32(offsetOf(ts, "pid"), task.pid);
  set32(offsetOf(ts, "tgid"), task.tgid);
  const comm = offsetOf(ts, "comm");
  if (comm !== undefined) region.bytes.set(new TextEncoder().encode(task.comm).subarray(0, 15), comm);
  const tasks = offsetOf(ts, "tasks");
  if (tasks !== undefined) {
    setPtr(tasks, region.base + BigInt(tasks));
    setPtr(tasks + 8, region.base + BigInt(tasks));
  }
  const parentAddress = parent?.task.base ?? region.base;
  setPtr(offsetOf(ts, "real_parent"), parentAddress);
  setPtr(offsetOf(ts, "parent"), parentAddress);
  // the VM's tasks are single-threaded: each leads its thread group
  setPtr(offsetOf(ts, "group_leader"), region.base);
  let credRegion: Region | undefined;
  const cs = struct(btf, "cred");
  if (cs) {
    credRegion = memory.addRegion({ kind: "other", name: `cred (pid ${task.pid})`, length: cs.size });
    const c = new DataView(credRegion.bytes.buffer);
    for (const [name, value] of [
      ["uid", task.uid],
      ["euid", task.euid ?? task.uid],
      ["suid", task.suid ?? task.uid],
      ["fsuid", task.fsuid ?? task.uid],
      ["gid", task.gid],
      ["egid", task.egid ?? task.gid],
      ["sgid", task.sgid ?? task.gid],
      ["fsgid", task.fsgid ?? task.gid],
    ] as const) {
      const off = offsetOf(cs, name);
      if (off !== undefined) c.setUint32(off, value >>> 0, true);
    }
    setPtr(offsetOf(ts, "cred"), credRegion.base);
    setPtr(offsetOf(ts, "real_cred"), credRegion.base);
  }
  return { task: region, cred: credRegion, parent };
}
