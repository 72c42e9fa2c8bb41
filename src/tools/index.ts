import type { Tool } from "./common/tool.js";

/**
 * The tool table: `tsbpf tool NAME` looks tools up here. Each tool lives in its own module,
 * loaded only when run. Add one line per tool.
 */
export const TOOLS: Readonly<
  Record<string, { readonly summary: string; readonly load: () => Promise<Tool> }>
> = {
  // one line per tool: name: { summary, load: async () => (await import("./name.js")).default },
  profile: {
    summary: "sample kernel and user stacks on every CPU (folded, SVG flame graph)",
    load: async () => (await import("./profile.js")).default,
  },
  offcputime: {
    summary: "blocked (off-CPU) time by kernel and user stack (folded, SVG flame graph)",
    load: async () => (await import("./offcputime.js")).default,
  },
  runqlat: {
    summary: "run queue (scheduler) latency histogram",
    load: async () => (await import("./runqlat.js")).default,
  },
  biolatency: {
    summary: "block device I/O latency histogram",
    load: async () => (await import("./biolatency.js")).default,
  },
  ps: {
    summary: "process list through a task iterator, bpf_loop or open-coded iterators",
    load: async () => (await import("./ps.js")).default,
  },
  ksyms: {
    summary: "kernel symbols through a ksym iterator (like /proc/kallsyms)",
    load: async () => (await import("./ksyms.js")).default,
  },
  lsmod: {
    summary: "kernel modules through a ksym iterator",
    load: async () => (await import("./lsmod.js")).default,
  },
  netstat: {
    summary: "TCP sockets through a TCP iterator (like netstat -tan)",
    load: async () => (await import("./netstat.js")).default,
  },
  memleak: {
    summary: "outstanding allocations of a process by stack (malloc/calloc/realloc/free uprobes)",
    load: async () => (await import("./memleak.js")).default,
  },
  iofsstat: {
    summary: "per-process, per-file read/write counts and bandwidth, with disk statistics",
    load: async () => (await import("./iofsstat.js")).default,
  },
  execsnoop: { summary: "trace exec() syscalls", load: async () => (await import("./execsnoop.js")).default },
  opensnoop: {
    summary: "trace open() family syscalls",
    load: async () => (await import("./opensnoop.js")).default,
  },
  exitsnoop: {
    summary: "trace process exits (age, exit code, signal)",
    load: async () => (await import("./exitsnoop.js")).default,
  },
  syscount: {
    summary: "count syscalls, by syscall or process, with latency",
    load: async () => (await import("./syscount.js")).default,
  },
  tcplife: {
    summary: "trace TCP sessions: ports, bytes, duration",
    load: async () => (await import("./tcplife.js")).default,
  },
  tcpstates: {
    summary: "trace TCP state changes",
    load: async () => (await import("./tcpstates.js")).default,
  },
  tcpconnect: {
    summary: "trace TCP active connections (--containers: by container)",
    load: async () => (await import("./tcpconnect.js")).default,
  },
  xdpdrop: {
    summary: "drop ICMP with XDP on an interface (or over a pcap in the VM)",
    load: async () => (await import("./xdpdrop.js")).default,
  },
  hello: {
    summary: "print a line for every new process (trace_pipe or ring buffer)",
    load: async () => (await import("./hello.js")).default,
  },
};

/** The tool named `name`, undefined when there is none. */
export async function loadTool(name: string): Promise<Tool | undefined> {
  const entry = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
  return entry ? await entry.load() : undefined;
}

export type { Tool, ToolIO } from "./common/tool.js";
