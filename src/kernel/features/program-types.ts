import { loadKernelBtf } from "../../btf/index.js";
import { ProgramType, AttachType, ProgFlags, programTypeName } from "../sys/index.js";
import { memoised, probeLoad, lastLogLine, type FeatureResult } from "./probe.js";

/** Load attributes a minimal program of a type needs. */
export interface LoadExtras {
  expected_attach_type?: number;
  prog_flags?: number;
  attach_btf_id?: number;
}

/** What a minimal program of a type needs at load time (as libbpf's probes set it). */
const LOAD_EXTRAS: Readonly<Partial<Record<ProgramType, LoadExtras>>> = {
  [ProgramType.CGROUP_SOCK_ADDR]: { expected_attach_type: AttachType.CGROUP_INET4_CONNECT },
  [ProgramType.SK_LOOKUP]: { expected_attach_type: AttachType.SK_LOOKUP },
  [ProgramType.LIRC_MODE2]: { expected_attach_type: AttachType.LIRC_MODE2 },
  [ProgramType.NETFILTER]: { expected_attach_type: AttachType.NETFILTER },
  [ProgramType.SYSCALL]: { prog_flags: ProgFlags.SLEEPABLE },
  [ProgramType.LSM]: { expected_attach_type: AttachType.LSM_MAC },
  [ProgramType.CGROUP_SOCKOPT]: { expected_attach_type: AttachType.CGROUP_GETSOCKOPT },
  [ProgramType.STRUCT_OPS]: { attach_btf_id: 1 },
  [ProgramType.EXT]: { attach_btf_id: 1 },
};

/**
 * The load attributes of a minimal program of `type`. Tracing programs are probed as tp_btf on
 * sched_process_exec, which needs no BPF trampoline.
 */
export function loadExtras(type: ProgramType): LoadExtras {
  if (type === ProgramType.TRACING) {
    const target = loadKernelBtf().typeByName("btf_trace_sched_process_exec", "typedef");
    return { expected_attach_type: AttachType.TRACE_RAW_TP, attach_btf_id: target?.id ?? 0 };
  }
  return LOAD_EXTRAS[type] ?? {};
}

/** Errnos libbpf expects from a minimal program that names no real target. */
const EXPECTED_ERRNO: Readonly<Partial<Record<ProgramType, number>>> = {
  [ProgramType.STRUCT_OPS]: 524, // ENOTSUPP: attach_btf_id 1 is not a struct_ops type
};

/** Types whose minimal load must name a kernel target: the verifier's complaint proves the type exists. */
const NEEDS_TARGET: ReadonlySet<ProgramType> = new Set([
  ProgramType.TRACING,
  ProgramType.EXT,
  ProgramType.LSM,
  ProgramType.STRUCT_OPS,
]);

/** Every program type the UAPI header names (UNSPEC excluded). */
export const PROGRAM_TYPES: readonly ProgramType[] = Object.values(ProgramType).filter(
  (v): v is ProgramType => typeof v === "number" && v !== ProgramType.UNSPEC,
);

/**
 * Whether the kernel knows a program type: loads `mov r0, 0; exit` of that type (like
 * `bpftool feature probe`). Types that need an attach target count as supported when the
 * verifier gets far enough to complain about the missing target.
 */
export function probeProgramType(type: ProgramType): FeatureResult {
  const name = programTypeName(type);
  return memoised(`program_type ${name}`, () => {
    const r = probeLoad({ prog_type: type, ...loadExtras(type) });
    if (r.ok) return { supported: true, detail: `a minimal ${name} program loads` };
    const line = lastLogLine(r.log);
    if (EXPECTED_ERRNO[type] === r.errno)
      return {
        supported: true,
        detail: `the kernel knows ${name} programs (${r.errnoName} for a dummy target, as expected)`,
      };
    if (NEEDS_TARGET.has(type) && r.errno !== 1 && line)
      return { supported: true, detail: `the verifier handles ${name} programs ("${line}")` };
    if (r.errno === 1) {
      const why =
        type === ProgramType.EXT || type === ProgramType.LSM ? `: ${name} programs need BPF trampolines` : "";
      return { supported: false, detail: `loading a ${name} program is not permitted (EPERM)${why}` };
    }
    return {
      supported: false,
      detail: `loading a minimal ${name} program fails with ${r.errnoName}${line ? `: ${line}` : " (the kernel does not know the type)"}`,
    };
  });
}
