/**
 * What the host provides to the helpers of a run: the CPU the program runs on, the current task,
 * clocks, a seedable random source, the trace_pipe sink, and the per-run packet state of network
 * program types. One RuntimeEnv is passed as `env` to every run of a VmRuntime's programs.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { defaultCpuCount } from "../maps/cpus.js";
import type { MapTable } from "../maps/map.js";
import type { Region } from "../memory.js";

/** The task a helper sees as "current" (bpf_get_current_pid_tgid, _uid_gid, _comm, _task). */
export interface TaskContext {
  /** Thread id (the kernel's task->pid). */
  readonly pid: number;
  /** Process id (task->tgid). */
  readonly tgid: number;
  /** Real user and group ids (cred->uid, cred->gid: what bpf_get_current_uid_gid gives). */
  readonly uid: number;
  readonly gid: number;
  /** Effective, saved and filesystem ids (cred->euid…); default uid / gid. */
  readonly euid?: number;
  readonly suid?: number;
  readonly fsuid?: number;
  readonly egid?: number;
  readonly sgid?: number;
  readonly fsgid?: number;
  /** Command name (task->comm), at most 15 bytes are visible (TASK_COMM_LEN 16 with the NUL). */
  readonly comm: string;
  /** The parent process (task->real_parent, task->parent); absent: the task is its own parent. */
  readonly parent?: TaskContext;
  /** Address of a host-provided task_struct region (bpf_get_current_task); 0 when absent. */
  readonly taskAddress?: bigint;
}

/** Fields of /proc/<pid>/status and /proc/<pid>/comm, undefined when unreadable (not Linux). */
function readProcTask(pid: string): { readonly task: TaskContext; readonly ppid: number } | undefined {
  let status: string;
  let comm: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
    // comm itself, not status' Name: line (which escapes some characters)
    comm = readFileSync(`/proc/${pid}/comm`, "utf8").replace(/\n$/, "");
  } catch {
    return undefined;
  }
  const field = (name: string): number[] =>
    (new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1] ?? "").trim().split(/\s+/).map(Number);
  const [tgid] = field("Tgid");
  const [tid] = field("Pid");
  const [ppid] = field("PPid");
  const [uid, euid, suid, fsuid] = field("Uid");
  const [gid, egid, sgid, fsgid] = field("Gid");
  const ids = [tgid, tid, ppid, uid, euid, suid, fsuid, gid, egid, sgid, fsgid];
  if (!ids.every((x) => x !== undefined && Number.isInteger(x))) return undefined;
  return {
    task: { pid: tid!, tgid: tgid!, uid: uid!, euid, suid, fsuid, gid: gid!, egid, sgid, fsgid, comm },
    ppid: ppid!,
  };
}

/**
 * The host process as the current task, as the kernel sees it when this process calls
 * BPF_PROG_TEST_RUN: pid, tgid, ids and comm from /proc/self (comm is the kernel's name of the
 * process, "node", not process.title), the parent process from /proc/<ppid>. Where there is no
 * /proc: process.pid, process.ppid, the real ids and the executable's name.
 */
export function hostTask(): TaskContext {
  const { task, ppid } = readProcTask("self") ?? {
    task: {
      pid: process.pid,
      tgid: process.pid,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      comm: basename(process.execPath).slice(0, 15) || "node",
    },
    ppid: process.ppid,
  };
  const parent = readProcTask(String(ppid))?.task ?? {
    pid: ppid,
    tgid: ppid,
    uid: task.uid,
    gid: task.gid,
    comm: "",
  };
  return { ...task, parent };
}

/** Clocks of the time helpers, in nanoseconds. */
export interface Clock {
  /** CLOCK_MONOTONIC (bpf_ktime_get_ns). */
  monotonicNs(): bigint;
  /** CLOCK_BOOTTIME (bpf_ktime_get_boot_ns): monotonic plus the time spent suspended. */
  boottimeNs(): bigint;
  /** CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns): monotonic at the last tick. */
  coarseNs(): bigint;
  /** jiffies since boot (bpf_jiffies64). */
  jiffies(): bigint;
}

/** The kernel's CONFIG_HZ on the reference machine; jiffies and the coarse clock tick at this rate. */
export const DEFAULT_HZ = 250;

/** The host's clocks: process.hrtime is CLOCK_MONOTONIC on Linux; boottime adds /proc/uptime's lead. */
export function hostClock(hz = DEFAULT_HZ): Clock {
  const tick = 1_000_000_000n / BigInt(hz);
  const bootOffset = readBootOffset();
  const monotonicNs = (): bigint => process.hrtime.bigint();
  return {
    monotonicNs,
    boottimeNs: () => monotonicNs() + bootOffset,
    coarseNs: () => {
      const t = monotonicNs();
      return t - (t % tick);
    },
    // jiffies start at INITIAL_JIFFIES (-300 s) in the kernel; bpf_jiffies64 hides nothing of that, so
    // only "positive and growing at HZ" is promised here.
    jiffies: () => monotonicNs() / tick + 1n,
  };
}

/** CLOCK_BOOTTIME - CLOCK_MONOTONIC (time spent suspended), from /proc/uptime; 0 elsewhere. */
function readBootOffset(): bigint {
  try {
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const lead = BigInt(Math.round(uptime * 1e9)) - process.hrtime.bigint();
    // /proc/uptime has 10 ms resolution: a lead below that is rounding, not suspend time.
    return lead > 10_000_000n ? lead : 0n;
  } catch {
    return 0n;
  }
}

/** A fixed clock for reproducible runs: every reading returns the same instant. */
export function fixedClock(ns: bigint, hz = DEFAULT_HZ): Clock {
  const tick = 1_000_000_000n / BigInt(hz);
  return {
    monotonicNs: () => ns,
    boottimeNs: () => ns,
    coarseNs: () => ns - (ns % tick),
    jiffies: () => ns / tick,
  };
}

/**
 * bpf_get_prandom_u32's generator: xorshift128+ seeded with splitmix64 (the kernel uses a per-CPU
 * prandom state; only the distribution matters to programs). Seeded: runs are reproducible.
 */
export class Prandom {
  private s0: bigint;
  private s1: bigint;
  constructor(seed: bigint | number = BigInt(Date.now()) ^ process.hrtime.bigint()) {
    let x = BigInt.asUintN(64, BigInt(seed));
    const next = (): bigint => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }
  /** The next 32-bit value. */
  nextU32(): number {
    let a = this.s0;
    const b = this.s1;
    this.s0 = b;
    a ^= BigInt.asUintN(64, a << 23n);
    a ^= a >> 17n;
    a ^= b ^ (b >> 26n);
    this.s1 = a;
    return Number(BigInt.asUintN(64, a + b) >> 32n);
  }
}

/** Where bpf_trace_printk / bpf_trace_vprintk lines go (the kernel's trace_pipe). */
export type TraceSink = (line: string) => void;

/** What bpf_redirect / bpf_redirect_map recorded during a run. */
export interface RedirectTarget {
  readonly kind: "ifindex" | "map";
  /** Interface index (bpf_redirect) or map key (bpf_redirect_map). */
  readonly target: number;
  readonly flags: number;
  /** Map name (bpf_redirect_map). */
  readonly map?: string;
  /** bpf_redirect_map: the device of the devmap entry (absent when broadcasting). */
  readonly ifindex?: number;
  /** bpf_redirect_map: the CPU of the cpumap entry. */
  readonly cpu?: number;
  /** bpf_redirect_map: the socket of the xskmap entry (its host-given name). */
  readonly socket?: string;
}

/**
 * The packet of an XDP or skb run, as offsets into its region. `data` is where the program's
 * ctx->data points; `meta` <= `data` <= `end`; XDP keeps a headroom (the bytes before `meta`).
 */
export interface PacketState {
  readonly kind: "xdp" | "skb";
  region: Region;
  /** First usable byte (XDP: data_hard_start, 0). */
  readonly start: number;
  meta: number;
  data: number;
  end: number;
  /** Last usable byte + 1 (XDP: frame size minus the skb_shared_info tailroom). */
  readonly limit: number;
  /** The context region, whose pointer slots the packet helpers update. */
  readonly ctx: Region;
  /** Offsets of the data / data_end / data_meta pointer slots in `ctx`. */
  readonly slots: { readonly data: number; readonly end: number; readonly meta: number };
  /** skb: offset of the network header from `data` (0 when data starts at it, 14 for tc). */
  readonly networkOffset: number;
}

export interface RuntimeEnvOptions {
  /** CPU the programs run on (bpf_get_smp_processor_id), default 0. */
  readonly cpu?: number;
  /** Possible CPUs (size of per-CPU map values), default the host's CPU count. */
  readonly cpus?: number;
  readonly numaNode?: number;
  readonly task?: TaskContext;
  readonly clock?: Clock;
  /** Seed of bpf_get_prandom_u32 (default: time based). */
  readonly randomSeed?: bigint | number;
  /** trace_pipe lines (default: collected in `traceLines`, at most 10,000 kept). */
  readonly trace?: TraceSink;
  /** Memory regions probe_read_kernel may read; any mapped region when absent. */
  readonly kernelRegions?: (region: Region) => boolean;
  /** Memory regions probe_read_user may read; any mapped region when absent. */
  readonly userRegions?: (region: Region) => boolean;
}

/** Default number of possible CPUs: the host's (as per-CPU maps count them). */
export const hostCpuCount = (): number => defaultCpuCount();

/** The env of runs (see the file comment). Fields may be changed between runs. */
export class RuntimeEnv {
  /** Resolves map handles for the map helpers. */
  readonly maps: MapTable;
  cpu: number;
  readonly cpus: number;
  numaNode: number;
  task: TaskContext;
  clock: Clock;
  random: Prandom;
  trace: TraceSink;
  /** Lines printed when no sink was given (most recent last). */
  readonly traceLines: string[] = [];
  kernelRegions: ((region: Region) => boolean) | undefined;
  userRegions: ((region: Region) => boolean) | undefined;
  /** Builds the current task's task_struct on first use (set by VmRuntime); see currentTaskAddress. */
  taskStructFactory: ((task: TaskContext) => bigint) | undefined = undefined;
  private taskStructs = new WeakMap<TaskContext, bigint>();

  /** bpf_get_current_task: the task's own address, else a task_struct built for it, else 0. */
  currentTaskAddress(): bigint {
    const t = this.task;
    if (t.taskAddress !== undefined) return t.taskAddress;
    let a = this.taskStructs.get(t);
    if (a === undefined) {
      a = this.taskStructFactory?.(t) ?? 0n;
      this.taskStructs.set(t, a);
    }
    return a;
  }

  /** Per-run state, reset by the program type before each run. */
  packet: PacketState | undefined = undefined;
  redirect: RedirectTarget | undefined = undefined;
  constructor(maps: MapTable, options: RuntimeEnvOptions = {}) {
    this.maps = maps;
    this.cpus = options.cpus ?? hostCpuCount();
    this.cpu = options.cpu ?? 0;
    if (!Number.isInteger(this.cpu) || this.cpu < 0 || this.cpu >= this.cpus)
      throw new RangeError(`cpu ${this.cpu} is not one of the ${this.cpus} possible CPUs`);
    this.numaNode = options.numaNode ?? 0;
    this.task = options.task ?? hostTask();
    this.clock = options.clock ?? hostClock();
    this.random = new Prandom(options.randomSeed);
    this.kernelRegions = options.kernelRegions;
    this.userRegions = options.userRegions;
    this.trace =
      options.trace ??
      ((line) => {
        this.traceLines.push(line);
        if (this.traceLines.length > 10_000) this.traceLines.shift();
      });
  }

  /** bpf_perf_event_output's BPF_F_CTXLEN_MASK bytes: the start of the run's packet. */
  readonly contextBytes = (_ctx: bigint, length: number): Uint8Array | undefined => {
    const p = this.packet;
    if (!p || length > p.end - p.data) return undefined;
    return p.region.bytes.slice(p.data, p.data + length);
  };
}
