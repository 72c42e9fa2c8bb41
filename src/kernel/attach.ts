/**
 * Attaching a program by its section name, table-driven like libbpf's bpf_program__attach: the
 * section's auto-attach kind picks a row of ATTACH_KINDS, and the rest of the section name is
 * the row's target ("tracepoint/syscalls/sys_enter_openat" → tracepoint "syscalls/sys_enter_openat",
 * "kprobe/do_unlinkat+8" → kprobe "do_unlinkat+8", "uprobe//usr/bin/bash:readline" → uprobe
 * "/usr/bin/bash:readline"). Hooks a section cannot name (an XDP interface, a cgroup, a sampling
 * frequency) come from AttachOptions. The same rows serve `tsbpf attach PROG KIND TARGET`.
 */
import { readFileSync } from "node:fs";
import { ElfFile } from "../elf/index.js";
import { TsbpfError } from "../errors.js";
import { AttachType, ProgramType, type ProgramSpec } from "../object/index.js";
import { onlineCpus } from "./perf/event.js";
import type { KernelProgram } from "./program.js";
import { PerfHwConfig, PerfSwConfig, PerfType } from "./sys/perf-event-attr.js";
import { systemTracefs } from "./tracefs.js";
import {
  CGROUP_ATTACH_TYPES,
  XdpFlags,
  attachCgroup,
  attachFentry,
  attachFexit,
  attachFmodRet,
  attachFreplace,
  attachIter,
  attachKprobe,
  attachKprobeMulti,
  attachKretprobe,
  attachLsm,
  attachNetkit,
  attachPerfEvent,
  attachRawTracepoint,
  attachTcx,
  attachTpBtf,
  attachTracepoint,
  attachUprobe,
  attachUprobeMulti,
  attachUretprobe,
  attachXdp,
  type IterOptions,
  type Link,
  type ProbeMode,
} from "./links/index.js";
import { resolveBinaryPath } from "./uprobe/resolve.js";

/** The hooks attachProgram knows, named like the section prefixes that select them. */
export type AttachKind =
  | "tracepoint"
  | "raw_tracepoint"
  | "tp_btf"
  | "fentry"
  | "fexit"
  | "fmod_ret"
  | "freplace"
  | "lsm"
  | "iter"
  | "kprobe"
  | "kretprobe"
  | "ksyscall"
  | "kretsyscall"
  | "kprobe.multi"
  | "kretprobe.multi"
  | "uprobe"
  | "uretprobe"
  | "uprobe.multi"
  | "uretprobe.multi"
  | "perf_event"
  | "xdp"
  | "tcx"
  | "netkit"
  | "cgroup";

/** What a hook needs beyond its target (the parts a section name cannot say). */
export interface AttachOptions {
  /** xdp, tcx, netkit: the interface (name or ifindex) when the target does not name it. */
  interface?: string | number;
  /** xdp: where the program runs (default: the kernel's choice, native when the driver can). */
  xdpMode?: "auto" | "generic" | "native" | "offload";
  /** tcx: the direction when the program's attach type does not say (default ingress). */
  direction?: "ingress" | "egress";
  /** netkit: the side when the program's attach type does not say (default primary). */
  side?: "primary" | "peer";
  /** cgroup: the cgroup v2 directory when the target does not name it. */
  cgroup?: string;
  /** cgroup: the hook (libbpf attach type name) when the program's attach type does not say. */
  cgroupAttachType?: AttachType | string;
  /** perf_event: how often the program runs (give one). */
  samplePeriod?: number | bigint;
  sampleFreq?: number;
  /** perf_event: CPUs to sample on (default: every online CPU). */
  cpus?: readonly number[];
  /** uprobe, uprobe.multi, perf_event: only this process. */
  pid?: number;
  /** kprobe/kretprobe: the kprobe PMU or tracefs kprobe_events (default: PMU when there is one). */
  probeMode?: ProbeMode;
  /** iter: what the iterator walks (the map of a bpf_map_elem iterator…). */
  iter?: IterOptions;
  /** bpf_get_attach_cookie() value, for the hooks that take one. */
  cookie?: bigint | number;
}

/** One attached program: the hook, its target and the link holding it. */
export interface Attachment {
  readonly kind: AttachKind;
  readonly target: string;
  /** "tracepoint/syscalls/sys_enter_openat", "xdp/lo (generic)": what to print. */
  readonly description: string;
  readonly link: Link;
}

/** What a program's section says about attaching it. */
export type SectionAttachment =
  | { readonly kind: AttachKind; readonly target: string }
  | { readonly kind: undefined; readonly reason: string };

/** A program cannot be attached (nothing to attach to, or a missing option). */
export class AttachError extends TsbpfError {
  override name = "AttachError";
}

/** A row of the hook table. */
export interface AttachKindDef {
  /** What TARGET means for this kind ("CATEGORY/NAME"); undefined: fixed when the program loads. */
  readonly target?: string;
  /** The target may be empty (it comes from the options). */
  readonly optionalTarget?: boolean;
  attach(prog: KernelProgram | number, target: string, o: AttachOptions, t: AttachContext): Attached;
}

/** Facts about the program a row may need (from its spec, when known). */
interface AttachContext {
  readonly name: string;
  readonly attachType: AttachType | undefined;
}

interface Attached {
  readonly link: Link;
  readonly description?: string;
}

const cookie = (o: AttachOptions): { cookie?: bigint | number } =>
  o.cookie !== undefined ? { cookie: o.cookie } : {};

/** "FUNC", "FUNC+OFFSET" (decimal or 0x hex). */
function splitOffset(kind: string, target: string): { symbol: string; offset: number } {
  const m = /^([^+]+)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(target);
  if (!m) throw new AttachError(`${kind}: bad target '${target}' (FUNC or FUNC+OFFSET)`);
  return { symbol: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}

/** "PATH:FUNC", "PATH:FUNC+OFFSET" or "PATH:OFFSET" (libbpf's uprobe section syntax). */
function splitUprobe(kind: string, target: string): { path: string; symbol?: string; offset?: number } {
  const colon = target.lastIndexOf(":");
  if (colon <= 0 || colon === target.length - 1)
    throw new AttachError(`${kind}: bad target '${target}' (BINARY:FUNCTION[+OFFSET] or BINARY:OFFSET)`);
  const path = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  if (/^(0x[0-9a-f]+|\d+)$/i.test(rest)) return { path, offset: Number(rest) };
  const { symbol, offset } = splitOffset(kind, rest);
  return { path, symbol, ...(offset ? { offset } : {}) };
}

const isGlob = (s: string): boolean => /[*?]/.test(s);
const globRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

/** Kernel functions matching a glob, from tracefs available_filter_functions (as libbpf). */
function kernelFunctionsMatching(glob: string): string[] {
  const re = globRegExp(glob);
  const text = systemTracefs().read("available_filter_functions");
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const name = line.split(/\s/)[0];
    if (name && re.test(name)) names.add(name);
  }
  if (names.size === 0) throw new AttachError(`kprobe.multi: no kernel function matches '${glob}'`);
  return [...names];
}

/** Function symbols of a binary matching a glob (.symtab and .dynsym). */
function binaryFunctionsMatching(path: string, glob: string): string[] {
  const elf = ElfFile.parse(readFileSync(path), path);
  const re = globRegExp(glob);
  const names = new Set<string>();
  for (const s of [...elf.symbols, ...elf.dynamicSymbols]) {
    const name = s.name.split("@")[0]!;
    if ((s.type === 2 || s.type === 10) && s.sectionIndex !== 0 && s.value !== 0 && re.test(name))
      names.add(name);
  }
  if (names.size === 0) throw new AttachError(`uprobe.multi: no function of ${path} matches '${glob}'`);
  return [...names];
}

/** Architecture prefixes of syscall entry points (libbpf's arch_specific_syscall_pfx). */
const SYSCALL_PREFIX: Readonly<Record<string, string>> = {
  x64: "__x64_sys_",
  ia32: "__ia32_sys_",
  arm64: "__arm64_sys_",
  s390x: "__s390x_sys_",
  s390: "__s390_sys_",
  arm: "sys_",
  mips64el: "sys_",
  ppc64: "sys_",
  riscv64: "__riscv_sys_",
  loong64: "sys_",
};

let syscallPrefix: string | undefined;

/** The kernel symbol of syscall `name`: "__x64_sys_openat" where the kernel has syscall wrappers. */
export function syscallSymbol(name: string): string {
  if (syscallPrefix === undefined) {
    const prefix = SYSCALL_PREFIX[process.arch] ?? "sys_";
    let wrapped = false;
    try {
      wrapped = readFileSync("/proc/kallsyms", "utf8").includes(` ${prefix}bpf\n`);
    } catch {
      // no kallsyms: assume the architecture's wrappers
      wrapped = true;
    }
    syscallPrefix = wrapped ? prefix : "sys_";
  }
  return `${syscallPrefix}${name}`;
}

const XDP_MODES: Readonly<Record<NonNullable<AttachOptions["xdpMode"]>, XdpFlags>> = {
  auto: XdpFlags.AUTO,
  generic: XdpFlags.GENERIC,
  native: XdpFlags.NATIVE,
  offload: XdpFlags.OFFLOAD,
};

/** Sampling events of perf_event programs, by perf's names. */
export const PERF_EVENTS: Readonly<Record<string, { type: PerfType; config: number }>> = {
  "cpu-clock": { type: PerfType.SOFTWARE, config: PerfSwConfig.CPU_CLOCK },
  "task-clock": { type: PerfType.SOFTWARE, config: PerfSwConfig.TASK_CLOCK },
  "page-faults": { type: PerfType.SOFTWARE, config: PerfSwConfig.PAGE_FAULTS },
  "context-switches": { type: PerfType.SOFTWARE, config: PerfSwConfig.CONTEXT_SWITCHES },
  "cpu-migrations": { type: PerfType.SOFTWARE, config: PerfSwConfig.CPU_MIGRATIONS },
  cycles: { type: PerfType.HARDWARE, config: PerfHwConfig.CPU_CYCLES },
  "cpu-cycles": { type: PerfType.HARDWARE, config: PerfHwConfig.CPU_CYCLES },
  instructions: { type: PerfType.HARDWARE, config: PerfHwConfig.INSTRUCTIONS },
  "cache-misses": { type: PerfType.HARDWARE, config: PerfHwConfig.CACHE_MISSES },
  "branch-misses": { type: PerfType.HARDWARE, config: PerfHwConfig.BRANCH_MISSES },
};

function needInterface(kind: string, target: string, o: AttachOptions): string | number {
  const iface = target || o.interface;
  if (iface === undefined || iface === "")
    throw new AttachError(`${kind} needs a network interface to attach to`);
  return iface;
}

/** A row for the hooks whose target is fixed when the program loads (BTF-attached programs). */
const fixedTarget = (fn: (prog: KernelProgram | number, o: AttachOptions) => Link): AttachKindDef => ({
  optionalTarget: true,
  attach: (prog, _target, o) => ({ link: fn(prog, o) }),
});

const kprobeRow = (ret: boolean, syscall: boolean): AttachKindDef => ({
  target: syscall ? "SYSCALL" : ret ? "FUNC" : "FUNC[+OFFSET]",
  attach: (prog, target, o) => {
    const kind = `${syscall ? "ksyscall" : "kprobe"}`;
    const { symbol, offset } = splitOffset(kind, target);
    const options = {
      symbol: syscall ? syscallSymbol(symbol) : symbol,
      ...(offset ? { offset } : {}),
      ...(o.probeMode ? { probeMode: o.probeMode } : {}),
      ...cookie(o),
    };
    return { link: ret ? attachKretprobe(prog, options) : attachKprobe(prog, options) };
  },
});

const uprobeRow = (ret: boolean): AttachKindDef => ({
  target: "BINARY:FUNCTION[+OFFSET]",
  attach: (prog, target, o) => {
    const { path, symbol, offset } = splitUprobe(ret ? "uretprobe" : "uprobe", target);
    const options = {
      target: path,
      ...(symbol !== undefined ? { symbol } : {}),
      ...(offset !== undefined ? { offset } : {}),
      ...(o.pid !== undefined ? { pid: o.pid } : {}),
      ...cookie(o),
    };
    return { link: ret ? attachUretprobe(prog, options) : attachUprobe(prog, options) };
  },
});

/** The hook table: one row per kind. */
export const ATTACH_KINDS: Readonly<Record<AttachKind, AttachKindDef>> = {
  tracepoint: {
    target: "CATEGORY/NAME",
    attach: (prog, target, o) => {
      const slash = target.indexOf("/");
      if (slash <= 0 || slash === target.length - 1)
        throw new AttachError(
          `tracepoint: bad target '${target}' (CATEGORY/NAME, e.g. syscalls/sys_enter_openat)`,
        );
      return {
        link: attachTracepoint(prog, {
          group: target.slice(0, slash),
          name: target.slice(slash + 1),
          ...cookie(o),
        }),
      };
    },
  },
  raw_tracepoint: {
    target: "NAME",
    attach: (prog, target, o) => ({ link: attachRawTracepoint(prog, { name: target, ...cookie(o) }) }),
  },
  tp_btf: fixedTarget((prog, o) => attachTpBtf(prog, cookie(o))),
  fentry: fixedTarget((prog, o) => attachFentry(prog, cookie(o))),
  fexit: fixedTarget((prog, o) => attachFexit(prog, cookie(o))),
  fmod_ret: fixedTarget((prog, o) => attachFmodRet(prog, cookie(o))),
  freplace: fixedTarget((prog) => attachFreplace(prog)),
  lsm: fixedTarget((prog, o) => attachLsm(prog, cookie(o))),
  iter: fixedTarget((prog, o) => attachIter(prog, o.iter ?? {})),
  kprobe: kprobeRow(false, false),
  kretprobe: kprobeRow(true, false),
  ksyscall: kprobeRow(false, true),
  kretsyscall: kprobeRow(true, true),
  "kprobe.multi": multiKprobeRow(false),
  "kretprobe.multi": multiKprobeRow(true),
  uprobe: uprobeRow(false),
  uretprobe: uprobeRow(true),
  "uprobe.multi": multiUprobeRow(false),
  "uretprobe.multi": multiUprobeRow(true),
  perf_event: {
    target: `EVENT (${Object.keys(PERF_EVENTS).join(", ")})`,
    optionalTarget: true,
    attach: (prog, target, o) => {
      const event = PERF_EVENTS[target || "cpu-clock"];
      if (!event)
        throw new AttachError(
          `perf_event: unknown event '${target}' (${Object.keys(PERF_EVENTS).join(", ")})`,
        );
      if (o.samplePeriod === undefined && o.sampleFreq === undefined)
        throw new AttachError("perf_event needs a sampling frequency or period");
      const link = attachPerfEvent(prog, {
        type: event.type,
        config: event.config,
        ...(o.samplePeriod !== undefined ? { samplePeriod: o.samplePeriod } : {}),
        ...(o.sampleFreq !== undefined ? { sampleFreq: o.sampleFreq } : {}),
        ...(o.pid !== undefined ? { pid: o.pid } : {}),
        ...(o.cpus ? { cpus: o.cpus } : {}),
        ...cookie(o),
      });
      const rate = o.sampleFreq !== undefined ? `${o.sampleFreq} Hz` : `every ${o.samplePeriod}`;
      const cpus = o.cpus ?? onlineCpus();
      return { link, description: `perf_event/${target || "cpu-clock"} (${rate}, ${cpus.length} CPUs)` };
    },
  },
  xdp: {
    target: "INTERFACE",
    optionalTarget: true,
    attach: (prog, target, o) => {
      const iface = needInterface("xdp", target, o);
      const mode = o.xdpMode ?? "auto";
      const flags = XDP_MODES[mode];
      if (flags === undefined)
        throw new AttachError(`xdp: unknown mode '${String(mode)}' (${Object.keys(XDP_MODES).join(", ")})`);
      return {
        link: attachXdp(prog, { interface: iface, flags }),
        description: `xdp/${iface}${mode === "auto" ? "" : ` (${mode})`}`,
      };
    },
  },
  tcx: {
    target: "INTERFACE",
    optionalTarget: true,
    attach: (prog, target, o, t) => {
      const iface = needInterface("tcx", target, o);
      const direction =
        t.attachType === AttachType.TCX_EGRESS
          ? "egress"
          : t.attachType === AttachType.TCX_INGRESS
            ? "ingress"
            : (o.direction ?? "ingress");
      return {
        link: attachTcx(prog, { interface: iface, direction }),
        description: `tcx/${direction}/${iface}`,
      };
    },
  },
  netkit: {
    target: "INTERFACE",
    optionalTarget: true,
    attach: (prog, target, o, t) => {
      const iface = needInterface("netkit", target, o);
      const side =
        t.attachType === AttachType.NETKIT_PEER
          ? "peer"
          : t.attachType === AttachType.NETKIT_PRIMARY
            ? "primary"
            : (o.side ?? "primary");
      return { link: attachNetkit(prog, { interface: iface, side }), description: `netkit/${side}/${iface}` };
    },
  },
  cgroup: {
    target: "CGROUP_DIR",
    optionalTarget: true,
    attach: (prog, target, o, t) => {
      const cgroup = target || o.cgroup;
      if (!cgroup) throw new AttachError("cgroup needs a cgroup v2 directory to attach to");
      const type =
        t.attachType !== undefined && CGROUP_ATTACH_TYPES.has(t.attachType)
          ? t.attachType
          : o.cgroupAttachType;
      if (type === undefined)
        throw new AttachError(`cgroup: program '${t.name}' needs an attach type (e.g. cgroup_inet_ingress)`);
      const name = typeof type === "string" ? type : (AttachType[type]?.toLowerCase() ?? String(type));
      return {
        link: attachCgroup(prog, { cgroup: target, attachType: type }),
        description: `cgroup/${name}/${target}`,
      };
    },
  },
};

function multiKprobeRow(ret: boolean): AttachKindDef {
  return {
    target: "PATTERN (a function name or a glob)",
    attach: (prog, target) => {
      const symbols = isGlob(target) ? kernelFunctionsMatching(target) : target.split(",");
      return {
        link: attachKprobeMulti(prog, { symbols, ret }),
        description: `${ret ? "kretprobe" : "kprobe"}.multi/${target} (${symbols.length} functions)`,
      };
    },
  };
}

function multiUprobeRow(ret: boolean): AttachKindDef {
  return {
    target: "BINARY:PATTERN",
    attach: (prog, target, o) => {
      const colon = target.lastIndexOf(":");
      if (colon <= 0) throw new AttachError(`uprobe.multi: bad target '${target}' (BINARY:PATTERN)`);
      const binary = target.slice(0, colon);
      const pattern = target.slice(colon + 1);
      const path = resolveBinaryPath(binary, o.pid);
      const symbols = isGlob(pattern) ? binaryFunctionsMatching(path, pattern) : pattern.split(",");
      return {
        link: attachUprobeMulti(prog, {
          target: path,
          symbols,
          ret,
          ...(o.pid !== undefined ? { pid: o.pid } : {}),
        }),
        description: `${ret ? "uretprobe" : "uprobe"}.multi/${target} (${symbols.length} functions)`,
      };
    },
  };
}

/** Whether `kind` is a known hook kind. */
export const isAttachKind = (kind: string): kind is AttachKind => Object.hasOwn(ATTACH_KINDS, kind);

/** Aliases accepted where a kind is named by a person (section prefixes, bpftool names). */
export const ATTACH_KIND_ALIASES: Readonly<Record<string, AttachKind>> = {
  tp: "tracepoint",
  raw_tp: "raw_tracepoint",
  tcx_ingress: "tcx",
  tcx_egress: "tcx",
  uprobe_multi: "uprobe.multi",
  kprobe_multi: "kprobe.multi",
  xdpgeneric: "xdp",
  xdpdrv: "xdp",
  xdpoffload: "xdp",
};

/** The kind of a section's auto-attach (libbpf's attach_fn) and its flags. */
const AUTO_KINDS: Readonly<Record<string, (spec: ProgramSpec, ret: boolean) => AttachKind | string>> = {
  kprobe: (_s, ret) => (ret ? "kretprobe" : "kprobe"),
  ksyscall: (_s, ret) => (ret ? "kretsyscall" : "ksyscall"),
  uprobe: (_s, ret) => (ret ? "uretprobe" : "uprobe"),
  "kprobe.multi": (_s, ret) => (ret ? "kretprobe.multi" : "kprobe.multi"),
  "uprobe.multi": (s, ret) =>
    s.attachType === AttachType.TRACE_UPROBE_SESSION
      ? "uprobe.session programs cannot be attached by tsbpf yet (BPF_TRACE_UPROBE_SESSION links)"
      : ret
        ? "uretprobe.multi"
        : "uprobe.multi",
  "kprobe.session": () =>
    "kprobe.session programs cannot be attached by tsbpf yet (BPF_TRACE_KPROBE_SESSION links)",
  usdt: () => "USDT probes cannot be attached by tsbpf yet (no .note.stapsdt support)",
  tracepoint: () => "tracepoint",
  raw_tracepoint: () => "raw_tracepoint",
  lsm: () => "lsm",
  iter: () => "iter",
  trace: (s) =>
    s.type === ProgramType.EXT
      ? "freplace"
      : s.attachType === AttachType.TRACE_RAW_TP
        ? "tp_btf"
        : s.attachType === AttachType.TRACE_FEXIT
          ? "fexit"
          : s.attachType === AttachType.MODIFY_RETURN
            ? "fmod_ret"
            : "fentry",
};

/** Kinds whose section must name the target (libbpf skips auto-attach of a bare "kprobe" section). */
const SECTION_NAMES_TARGET: ReadonlySet<AttachKind> = new Set([
  "tracepoint",
  "raw_tracepoint",
  "kprobe",
  "kretprobe",
  "ksyscall",
  "kretsyscall",
  "kprobe.multi",
  "kretprobe.multi",
  "uprobe",
  "uretprobe",
  "uprobe.multi",
  "uretprobe.multi",
]);

/** Why programs of types without a hook cannot be attached here. */
const NO_HOOK: Readonly<Partial<Record<ProgramType, string>>> = {
  [ProgramType.SYSCALL]: "syscall programs are run, not attached (tsbpf run, BPF_PROG_TEST_RUN)",
  [ProgramType.SOCKET_FILTER]: "socket filters attach to a socket (SO_ATTACH_BPF) that the application opens",
  [ProgramType.SK_MSG]: "sk_msg programs attach to a sockmap (attachSockmap)",
  [ProgramType.SK_SKB]: "sk_skb programs attach to a sockmap (attachSockmap)",
  [ProgramType.STRUCT_OPS]: "struct_ops programs are registered through their struct_ops map",
};

/**
 * The hook and target a program's section names, or why it has none (libbpf's auto-attach
 * rules, extended with the program types whose hook comes from options: xdp, tcx, netkit,
 * cgroup, perf_event).
 */
export function sectionAttachment(spec: ProgramSpec): SectionAttachment {
  const none = (reason: string): SectionAttachment => ({ kind: undefined, reason });
  const auto = spec.autoAttach;
  if (auto !== undefined) {
    const k = AUTO_KINDS[auto]?.(spec, spec.flags.includes("retprobe"));
    if (k === undefined || !isAttachKind(k)) return none(k ?? `no attach rule for '${auto}'`);
    if (SECTION_NAMES_TARGET.has(k) && spec.attachTo === "")
      return none(`section '${spec.section}' names no ${k} target (like libbpf, not auto-attached)`);
    return { kind: k, target: spec.attachTo };
  }
  const at = spec.attachType;
  if (spec.type === ProgramType.XDP)
    return at === AttachType.XDP_DEVMAP || at === AttachType.XDP_CPUMAP
      ? none(
          `xdp/${at === AttachType.XDP_DEVMAP ? "devmap" : "cpumap"} programs run from a map entry, not a hook`,
        )
      : { kind: "xdp", target: "" };
  if (spec.type === ProgramType.SCHED_CLS)
    return at === AttachType.NETKIT_PRIMARY || at === AttachType.NETKIT_PEER
      ? { kind: "netkit", target: "" }
      : { kind: "tcx", target: "" };
  if (spec.type === ProgramType.PERF_EVENT) return { kind: "perf_event", target: "" };
  if (at !== undefined && CGROUP_ATTACH_TYPES.has(at)) return { kind: "cgroup", target: "" };
  return none(NO_HOOK[spec.type] ?? `section '${spec.section}' names no hook tsbpf can attach to`);
}

/**
 * Attaches `prog` to hook `kind` at `target` (the part of a section name after the prefix, or
 * what `tsbpf attach` was given). `spec` gives the program's name and expected attach type
 * where the hook depends on them (tcx direction, cgroup hook).
 */
export function attachProgram(
  prog: KernelProgram | number,
  kind: AttachKind,
  target: string,
  options: AttachOptions = {},
  spec?: Pick<ProgramSpec, "name" | "attachType">,
): Attachment {
  const row = ATTACH_KINDS[kind];
  if (!row) throw new AttachError(`unknown attach kind '${String(kind)}'`);
  if (row.target !== undefined && !row.optionalTarget && target === "")
    throw new AttachError(`${kind} needs a target (${row.target})`);
  const context: AttachContext = {
    name: spec?.name ?? (typeof prog === "number" ? `fd ${prog}` : prog.name),
    attachType: spec?.attachType,
  };
  const attached = row.attach(prog, target, options, context);
  return {
    kind,
    target,
    description: attached.description ?? (target ? `${kind}/${target}` : kind),
    link: attached.link,
  };
}

/**
 * Attaches a program by its section name, like libbpf's bpf_program__attach. Throws an
 * AttachError when the section names no hook (sectionAttachment says why), and the kind's
 * NotSupportedError when the kernel lacks the hook (kprobes, trampolines…).
 */
export function attachBySection(
  prog: KernelProgram,
  spec: ProgramSpec,
  options: AttachOptions = {},
): Attachment {
  const where = sectionAttachment(spec);
  if (where.kind === undefined) throw new AttachError(`prog '${spec.name}': ${where.reason}`);
  try {
    return attachProgram(prog, where.kind, where.target, options, spec);
  } catch (e) {
    // Missing options name the program; kernel errors (SyscallError, NotSupportedError) name the hook.
    if (e instanceof AttachError) throw new AttachError(`prog '${spec.name}': ${e.message}`, { cause: e });
    throw e;
  }
}
