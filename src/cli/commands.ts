import type { Command } from "./command.js";

/**
 * The verb table of the `tsbpf` command. Each verb lives in its own module under commands/,
 * loaded only when used so that `tsbpf asm` never pays for koffi or the kernel backend.
 * `tsbpf -h` lists the verbs by group, in the order of this table.
 */
export interface CommandEntry {
  /** Heading under which `tsbpf -h` lists the verb. */
  readonly group: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  asm: {
    group: "eBPF programs, no kernel needed",
    summary: "assemble to raw bytecode",
    load: async () => (await import("./commands/asm.js")).default,
  },
  disasm: {
    group: "eBPF programs, no kernel needed",
    summary: "disassemble bytecode or ELF objects",
    load: async () => (await import("./commands/disasm.js")).default,
  },
  exec: {
    group: "eBPF programs, no kernel needed",
    summary: "run bytecode or assembly in the interpreter (--trace to step)",
    load: async () => (await import("./commands/exec.js")).default,
  },
  conformance: {
    group: "eBPF programs, no kernel needed",
    summary: "run the BPF conformance suite, or act as its plugin",
    load: async () => (await import("./commands/conformance.js")).default,
  },
  object: {
    group: "eBPF programs, no kernel needed",
    summary: "show the programs, maps and globals of an eBPF object file",
    load: async () => (await import("./commands/object.js")).default,
  },
  btf: {
    group: "eBPF programs, no kernel needed",
    summary: "dump BTF as C or bpftool's raw text",
    load: async () => (await import("./commands/btf.js")).default,
  },
  run: {
    group: "eBPF programs, no kernel needed",
    summary: "run a program of an object in the VM like BPF_PROG_TEST_RUN, or over a pcap",
    load: async () => (await import("./commands/run.js")).default,
  },
  load: {
    group: "kernel (root)",
    summary: "load an object into the kernel: pin its programs and maps, or --attach them until Ctrl-C",
    load: async () => (await import("./commands/load.js")).default,
  },
  attach: {
    group: "kernel (root)",
    summary: "attach a loaded program to a hook (tracepoint, xdp, kprobe, iter…), pinned or until Ctrl-C",
    load: async () => (await import("./commands/attach.js")).default,
  },
  prog: {
    group: "kernel (root)",
    summary: "list, show and dump (xlated) programs loaded in the kernel",
    load: async () => (await import("./commands/prog.js")).default,
  },
  map: {
    group: "kernel (root)",
    summary: "list, show, dump, edit and pin maps in the kernel",
    load: async () => (await import("./commands/map.js")).default,
  },
  link: {
    group: "kernel (root)",
    summary: "list, show, detach and pin BPF links",
    load: async () => (await import("./commands/link.js")).default,
  },
  iter: {
    group: "kernel (root)",
    summary: "run a BPF iterator program of an object and print its output (task, tcp, ksym, bpf_map…)",
    load: async () => (await import("./commands/iter.js")).default,
  },
  kprobe: {
    group: "kernel (root)",
    summary: "load a 'prog' section kprobe object (legacy pinned maps) and probe FUNC until Ctrl-C",
    load: async () => (await import("./commands/kprobe.js")).default,
  },
  feature: {
    group: "kernel (root)",
    summary: "probe what the running kernel supports",
    load: async () => (await import("./commands/feature.js")).default,
  },
  "trace-pipe": {
    group: "kernel (root)",
    summary: "print bpf_trace_printk output (trace_pipe)",
    load: async () => (await import("./commands/trace-pipe.js")).default,
  },
  tool: {
    group: "tools (kernel, root)",
    summary: "run a ready-made eBPF tool (tsbpf tool list)",
    load: async () => (await import("./commands/tool.js")).default,
  },
  profile: {
    group: "tools (kernel, root)",
    summary: "CPU profiler: sampled kernel+user stacks (= tsbpf tool profile)",
    load: async () => (await import("./commands/tool.js")).toolCommand("profile"),
  },
  offcputime: {
    group: "tools (kernel, root)",
    summary: "off-CPU time by stack (= tsbpf tool offcputime)",
    load: async () => (await import("./commands/tool.js")).toolCommand("offcputime"),
  },
  runqlat: {
    group: "tools (kernel, root)",
    summary: "run queue latency histogram (= tsbpf tool runqlat)",
    load: async () => (await import("./commands/tool.js")).toolCommand("runqlat"),
  },
  biolatency: {
    group: "tools (kernel, root)",
    summary: "block I/O latency histogram (= tsbpf tool biolatency)",
    load: async () => (await import("./commands/tool.js")).toolCommand("biolatency"),
  },
  memleak: {
    group: "tools (kernel, root)",
    summary: "outstanding allocations by stack (= tsbpf tool memleak)",
    load: async () => (await import("./commands/tool.js")).toolCommand("memleak"),
  },
  execsnoop: {
    group: "tools (kernel, root)",
    summary: "trace exec() syscalls (= tsbpf tool execsnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("execsnoop"),
  },
  opensnoop: {
    group: "tools (kernel, root)",
    summary: "trace open() syscalls (= tsbpf tool opensnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("opensnoop"),
  },
  exitsnoop: {
    group: "tools (kernel, root)",
    summary: "trace process exits (= tsbpf tool exitsnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("exitsnoop"),
  },
  syscount: {
    group: "tools (kernel, root)",
    summary: "count syscalls (= tsbpf tool syscount)",
    load: async () => (await import("./commands/tool.js")).toolCommand("syscount"),
  },
  tcplife: {
    group: "tools (kernel, root)",
    summary: "trace TCP sessions (= tsbpf tool tcplife)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcplife"),
  },
  tcpstates: {
    group: "tools (kernel, root)",
    summary: "trace TCP state changes (= tsbpf tool tcpstates)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcpstates"),
  },
  tcpconnect: {
    group: "tools (kernel, root)",
    summary: "trace TCP connects (= tsbpf tool tcpconnect)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcpconnect"),
  },
  xdpdrop: {
    group: "tools (kernel, root)",
    summary: "drop ICMP with XDP (= tsbpf tool xdpdrop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("xdpdrop"),
  },
};
