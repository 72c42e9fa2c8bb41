/**
 * ps: the process list as the kernel sees it, read by BPF rather than from /proc (the
 * OS-introspection design of the eBPFmonitor paper): by a task iterator (default), or by a
 * syscall program walking the processes with the open-coded task iterator kfuncs or with
 * bpf_loop over the task list (--method). Every method reports what the kernel let it do.
 */
import { attachIter } from "../kernel/links/index.js";
import { testRun, type KernelCollection } from "../kernel/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup } from "./common/cleanup.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { Table } from "./common/output.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

const METHODS = ["iter", "open-coded", "loop", "syscall"] as const;
type Method = (typeof METHODS)[number];

const spec = defineTool({
  name: "ps",
  summary:
    "List processes from the kernel's task list through BPF (task iterator, bpf_loop, open-coded iterators)",
  options: {
    threads: { kind: "flag", short: "T", help: "one line per thread (task iterator only)" },
    pid: { kind: "int", short: "p", arg: "PID", help: "only this process", min: 1 },
    method: {
      kind: "string",
      short: "m",
      arg: "METHOD",
      help: "how to walk the tasks: iter (iter/task), open-coded (syscall program, bpf_iter_task kfuncs), loop (syscall program, bpf_loop over task->tasks), syscall (open-coded, else loop)",
      choices: METHODS,
    },
  },
  examples: [
    ["ps", "every process, through a task iterator"],
    ["ps -T", "every thread"],
    ["ps -m loop", "walk the task list with bpf_loop in a syscall program"],
    ["ps --json", "one JSON object per process"],
  ],
});

/** struct task_rec of ps.bpf.c. */
export interface TaskRecord {
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  /** ps's one-letter state (R, S, D, T, t, X, Z, P, I). */
  readonly state: string;
  readonly threads: number;
  /** Virtual memory size in KiB (0 for kernel threads). */
  readonly vszKb: number;
  /** Start time in seconds since boot. */
  readonly start: number;
  readonly comm: string;
  readonly kernelThread: boolean;
}

const REC_SIZE = 72;
const PF_KTHREAD = 0x00200000;
const TASK_REPORT = 0x7f;
const TASK_IDLE = 0x402; // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
const STATE_CHARS = "RSDTtXZPI";

/** The kernel's task_state_index(): the highest TASK_REPORT bit of state | exit_state. */
export function taskStateChar(state: number, exitState: number): string {
  if (state === TASK_IDLE) return "I";
  const bits = (state | exitState) & TASK_REPORT;
  return STATE_CHARS[bits === 0 ? 0 : 32 - Math.clz32(bits)] ?? "?";
}

/** Decodes records laid out back to back. */
export function decodeTaskRecords(
  bytes: Uint8Array,
  count = Math.floor(bytes.byteLength / REC_SIZE),
): TaskRecord[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TaskRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * REC_SIZE;
    const comm = bytes.subarray(at + 56, at + 72);
    const end = comm.indexOf(0);
    const flags = v.getUint32(at + 28, true);
    out.push({
      pid: v.getUint32(at, true),
      tid: v.getUint32(at + 4, true),
      ppid: v.getUint32(at + 8, true),
      uid: v.getUint32(at + 12, true),
      gid: v.getUint32(at + 16, true),
      state: taskStateChar(v.getUint32(at + 20, true), v.getUint32(at + 24, true)),
      threads: v.getUint32(at + 32, true),
      start: Number(v.getBigUint64(at + 40, true)) / 1e9,
      vszKb: Number(v.getBigUint64(at + 48, true)) * 4,
      comm: Buffer.from(end < 0 ? comm : comm.subarray(0, end)).toString("utf8"),
      kernelThread: (flags & PF_KTHREAD) !== 0,
    });
  }
  return out;
}

/** What a syscall walk left in .bss. */
interface WalkResult {
  readonly records: TaskRecord[];
  readonly truncated: boolean;
  readonly kallsymsErr: number;
  readonly closed: boolean;
}

function readWalk(coll: KernelCollection): WalkResult {
  const bss = coll.spec.globals.find((g) => g.section === ".bss")!;
  const bytes = coll.map(".bss").lookup(new Uint8Array(4))!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = (name: string): number => {
    const v = bss.variables.find((x) => x.name === name);
    if (!v) throw new Error(`ps.bpf.o: no .bss variable ${name}`);
    return v.offset;
  };
  const nr = view.getUint32(at("nr"), true);
  return {
    records: decodeTaskRecords(bytes.subarray(at("recs")), nr),
    truncated: view.getUint32(at("truncated"), true) !== 0,
    kallsymsErr: Number(view.getBigInt64(at("kallsyms_err"), true)),
    closed: view.getUint32(at("walk_closed"), true) !== 0,
  };
}

/** Reads the process list with one method; `note` gets what the kernel allowed and refused. */
export function listTasks(
  method: Exclude<Method, "syscall">,
  threads: boolean,
  note: (line: string) => void,
): TaskRecord[] {
  using cleanup = new Cleanup();
  if (method === "iter") {
    const coll = cleanup.use(
      loadToolObject("ps", { programs: ["ps_iter"], constants: { show_threads: threads } }),
    );
    const link = cleanup.use(attachIter(coll.program("ps_iter")));
    return decodeTaskRecords(link.readAll());
  }
  const prog = method === "open-coded" ? "ps_walk_open_coded" : "ps_walk_loop";
  const coll = cleanup.use(loadToolObject("ps", { programs: [prog] }));
  testRun(coll.program(prog));
  const walk = readWalk(coll);
  if (walk.truncated) note(`ps: more than ${walk.records.length} tasks: the list is truncated`);
  if (method === "loop") {
    if (walk.kallsymsErr !== 0)
      note(
        `ps: bpf_kallsyms_lookup_name("init_task") = ${walk.kallsymsErr}` +
          (walk.kallsymsErr === -2
            ? " (ENOENT: kernel without CONFIG_KALLSYMS_ALL lists no data symbols)"
            : "") +
          "; the bpf_loop walk started from the current task instead",
      );
    if (!walk.closed)
      note("ps: the bpf_loop walk did not come back to its first task (list changed or too long)");
  }
  // The walks see init_task (the idle task, pid 0); ps and the iterator do not list it.
  return walk.records.filter((r) => !(r.pid === 0 && r.tid === 0));
}

async function run(args: string[], io: ToolIO, _signal: AbortSignal): Promise<number> {
  await Promise.resolve();
  const o = parseToolArgs(spec, args);
  const method: Method = (o.method as Method | undefined) ?? "iter";
  if (o.threads && method !== "iter") throw new ToolUsageError("-T needs the task iterator (-m iter)");
  let tasks: TaskRecord[];
  if (method === "syscall") {
    try {
      tasks = listTasks("open-coded", false, (l) => io.err(l));
    } catch (e) {
      io.err(`ps: open-coded task iterator refused (${(e as Error).message.split("\n")[0]}); using bpf_loop`);
      tasks = listTasks("loop", false, (l) => io.err(l));
    }
  } else tasks = listTasks(method, o.threads, (l) => io.err(l));
  if (o.pid !== undefined) tasks = tasks.filter((t) => t.pid === o.pid);
  tasks.sort((a, b) => a.pid - b.pid || a.tid - b.tid);

  const table = new Table<TaskRecord>(
    io,
    [
      { name: "PID", width: 7, right: true, value: (t) => t.pid },
      o.threads && { name: "TID", width: 7, right: true, value: (t) => t.tid },
      { name: "PPID", width: 7, right: true, value: (t) => t.ppid },
      { name: "UID", width: 5, right: true, value: (t) => t.uid },
      { name: "S", width: 1, value: (t) => t.state },
      { name: "THR", width: 4, right: true, value: (t) => t.threads },
      { name: "VSZ", width: 9, right: true, value: (t) => t.vszKb },
      {
        name: "START",
        width: 9,
        right: true,
        value: (t) => Number(t.start.toFixed(2)),
        text: (t) => t.start.toFixed(2),
      },
      { name: "COMM", value: (t) => t.comm, text: (t) => (t.kernelThread ? `[${t.comm}]` : t.comm) },
    ],
    o.json,
  );
  table.header();
  for (const t of tasks) table.row(t);
  return 0;
}

export const ps: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default ps;
