import type { Command } from "./command.js";

/**
 * The verb table of the `tsbpf` command. Each verb lives in its own module under commands/,
 * loaded only when used so that `tsbpf asm` never pays for koffi or the kernel backend.
 */
export const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  // verbs are added here, one line each, in the order `tsbpf -h` lists them
  asm: { summary: "assemble to raw bytecode", load: async () => (await import("./commands/asm.js")).default },
  disasm: {
    summary: "disassemble bytecode or ELF objects",
    load: async () => (await import("./commands/disasm.js")).default,
  },
  prog: {
    summary: "list, show and dump (xlated) programs loaded in the kernel",
    load: async () => (await import("./commands/prog.js")).default,
  },
  map: {
    summary: "list, show, dump, edit and pin maps in the kernel",
    load: async () => (await import("./commands/map.js")).default,
  },
  run: {
    summary: "run a program of an object in the VM like BPF_PROG_TEST_RUN, or over a pcap",
    load: async () => (await import("./commands/run.js")).default,
  },
  exec: {
    summary: "run bytecode or assembly in the interpreter (--trace to step)",
    load: async () => (await import("./commands/exec.js")).default,
  },
  conformance: {
    summary: "run the BPF conformance suite, or act as its plugin",
    load: async () => (await import("./commands/conformance.js")).default,
  },
  btf: {
    summary: "dump BTF as C or bpftool's raw text",
    load: async () => (await import("./commands/btf.js")).default,
  },
  load: {
    summary: "load an object into the kernel: pin its programs and maps, or --attach them until Ctrl-C",
    load: async () => (await import("./commands/load.js")).default,
  },
  attach: {
    summary: "attach a loaded program to a hook (tracepoint, xdp, kprobe, iter…), pinned or until Ctrl-C",
    load: async () => (await import("./commands/attach.js")).default,
  },
  iter: {
    summary: "run a BPF iterator program of an object and print its output (task, tcp, ksym, bpf_map…)",
    load: async () => (await import("./commands/iter.js")).default,
  },
  kprobe: {
    summary: "load a 'prog' section kprobe object (legacy pinned maps) and probe FUNC until Ctrl-C",
    load: async () => (await import("./commands/kprobe.js")).default,
  },
  link: {
    summary: "list, show, detach and pin BPF links",
    load: async () => (await import("./commands/link.js")).default,
  },
  feature: {
    summary: "probe what the running kernel supports",
    load: async () => (await import("./commands/feature.js")).default,
  },
  "trace-pipe": {
    summary: "print bpf_trace_printk output (trace_pipe)",
    load: async () => (await import("./commands/trace-pipe.js")).default,
  },
  object: {
    summary: "show the programs, maps and globals of an eBPF object file",
    load: async () => (await import("./commands/object.js")).default,
  },
  tool: {
    summary: "run a ready-made eBPF tool (tsbpf tool list)",
    load: async () => (await import("./commands/tool.js")).default,
  },
  profile: {
    summary: "CPU profiler: sampled kernel+user stacks (= tsbpf tool profile)",
    load: async () => (await import("./commands/tool.js")).toolCommand("profile"),
  },
  offcputime: {
    summary: "off-CPU time by stack (= tsbpf tool offcputime)",
    load: async () => (await import("./commands/tool.js")).toolCommand("offcputime"),
  },
  runqlat: {
    summary: "run queue latency histogram (= tsbpf tool runqlat)",
    load: async () => (await import("./commands/tool.js")).toolCommand("runqlat"),
  },
  biolatency: {
    summary: "block I/O latency histogram (= tsbpf tool biolatency)",
    load: async () => (await import("./commands/tool.js")).toolCommand("biolatency"),
  },
  memleak: {
    summary: "outstanding allocations by stack (= tsbpf tool memleak)",
    load: async () => (await import("./commands/tool.js")).toolCommand("memleak"),
  },
  execsnoop: {
    summary: "trace exec() syscalls (= tsbpf tool execsnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("execsnoop"),
  },
  opensnoop: {
    summary: "trace open() syscalls (= tsbpf tool opensnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("opensnoop"),
  },
  exitsnoop: {
    summary: "trace process exits (= tsbpf tool exitsnoop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("exitsnoop"),
  },
  syscount: {
    summary: "count syscalls (= tsbpf tool syscount)",
    load: async () => (await import("./commands/tool.js")).toolCommand("syscount"),
  },
  tcplife: {
    summary: "trace TCP sessions (= tsbpf tool tcplife)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcplife"),
  },
  tcpstates: {
    summary: "trace TCP state changes (= tsbpf tool tcpstates)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcpstates"),
  },
  tcpconnect: {
    summary: "trace TCP connects (= tsbpf tool tcpconnect)",
    load: async () => (await import("./commands/tool.js")).toolCommand("tcpconnect"),
  },
  xdpdrop: {
    summary: "drop ICMP with XDP (= tsbpf tool xdpdrop)",
    load: async () => (await import("./commands/tool.js")).toolCommand("xdpdrop"),
  },
};
