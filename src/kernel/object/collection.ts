/**
 * KernelCollection: an ObjectSpec loaded into the running kernel, like libbpf's
 * bpf_object__load or cilium/ebpf's NewCollection. Steps: load the object's BTF (fixed up;
 * retried sanitized, then skipped, like libbpf), create or reuse (pinned) maps and fill global
 * data, fill map-in-map slots, relocate and load every program (CO-RE, kfuncs, ksyms, attach
 * targets, func_info/line_info), then fill prog arrays. A failure closes everything created so far.
 */
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { parseBtf, type Btf } from "../../btf/index.js";
import { ElfFile } from "../../elf/index.js";
import { NotSupportedError, TsbpfError } from "../../errors.js";
import {
  kernelVersionCode,
  MapType,
  type MapSpec,
  type ObjectSpec,
  type ProgramSpec,
} from "../../object/index.js";
import { SyscallError, VerifierError } from "../errors.js";
import type { KernelMap } from "../map.js";
import { KernelProgram } from "../program.js";
import { ProgFlags, ProgramType, btfGetFdById, closeFd, getBtfInfo, getProgramInfo } from "../sys/index.js";
import {
  elfLayout,
  specDatasecLayout,
  loadBtfBlob,
  prepareObjectBtf,
  sanitizeBtfKinds,
  type KernelBtf,
  type SectionLayout,
} from "./btf.js";
import { applyCoreRelocations } from "./core.js";
import { lineDescriber, ProgramVerifierError } from "./describe.js";
import { attachTarget, KernelSymbols, TRAMPOLINE_ATTACH_TYPES } from "./kernel-symbols.js";
import { openMap } from "./maps.js";
import { relocateProgram } from "./relocate.js";

/** How to load an object. */
export interface KernelCollectionOptions {
  /**
   * Directory replacing /sys/fs/bpf for pinned maps (libbpf's pin_root_path): by-name and
   * iproute2 object-ns maps are pinned at <pinPath>/NAME, global-ns ones at <pinPath>/tc/globals/NAME.
   */
  readonly pinPath?: string;
  /**
   * The object's ELF (bytes or parsed), for DATASEC sizes and variable offsets of sections other
   * than global data (.maps, license). Default: the layouts in `spec.datasecs`, else `spec.file`.
   */
  readonly elf?: Uint8Array | ElfFile;
  /** Load the object's BTF (default true); without it maps and programs load with no type info. */
  readonly btf?: boolean;
  /** Programs to load (default: all). */
  readonly programs?: readonly string[];
  /** Verifier log level of successful loads (0: none, the default; a failed load always gets a log). */
  readonly logLevel?: number;
  /** Debug messages (BTF retries, reused pins…); silent by default. */
  readonly log?: (message: string) => void;
  /** Kernel BTF file for CO-RE, kfuncs and attach targets (default /sys/kernel/btf/vmlinux). */
  readonly kernelBtfPath?: string;
  /**
   * freplace (BPF_PROG_TYPE_EXT) programs, by name: the loaded program whose global function
   * they replace (a KernelProgram or its fd), and the function (default: the section's,
   * "freplace/FUNC"), as libbpf's bpf_program__set_attach_target. The target must have been
   * loaded with BTF. An freplace program without an entry here cannot load.
   */
  readonly attachTargets?: Readonly<Record<string, FreplaceTarget>>;
}

/** What an freplace program replaces: a function of another loaded program. */
export interface FreplaceTarget {
  readonly program: KernelProgram | number;
  /** The global function's name (default: what the section names). */
  readonly function?: string;
}

/** Maps and programs of one object, loaded in the kernel. */
export class KernelCollection {
  #closed = false;

  private constructor(
    readonly spec: ObjectSpec,
    /** Maps by their spec name ("counts", "global_.bss"). */
    readonly maps: ReadonlyMap<string, KernelMap>,
    /** Programs by name. */
    readonly programs: ReadonlyMap<string, KernelProgram>,
    /** The object's BTF in the kernel, undefined when it did not load. */
    readonly btf: KernelBtf | undefined,
    /** Pin path of every pinned map (created or reused), by map name. */
    readonly pins: ReadonlyMap<string, string>,
  ) {}

  /** Loads `spec` into the kernel (see the module comment). */
  static load(spec: ObjectSpec, options: KernelCollectionOptions = {}): KernelCollection {
    const log = options.log ?? (() => {});
    const what = spec.file ?? spec.name;
    const symbols = new KernelSymbols(options.kernelBtfPath);
    const maps = new Map<string, KernelMap>();
    const programs = new Map<string, KernelProgram>();
    const pins = new Map<string, string>();
    let btf: KernelBtf | undefined;
    try {
      btf = options.btf === false || !spec.btf ? undefined : loadObjectBtf(spec, spec.btf, options, log);

      const reused = new Set<string>();
      for (const m of spec.maps) {
        const opened = openMap(m, { btfFd: btf?.fd, pinPath: options.pinPath, log });
        maps.set(m.name, opened.map);
        if (opened.pinnedAt) pins.set(m.name, opened.pinnedAt);
        if (opened.reused) reused.add(m.name);
      }
      for (const m of spec.maps) if (!reused.has(m.name)) fillMapSlots(m, maps);

      const wanted = options.programs;
      if (wanted) {
        const unknown = wanted.filter((n) => !spec.programs.some((p) => p.name === n));
        if (unknown.length)
          throw new TsbpfError(`${what}: no program named ${unknown.map((n) => `'${n}'`).join(", ")}`);
      }
      const mapFd = (index: number, name: string): number => {
        const m = maps.get(spec.maps[index]?.name ?? name);
        if (!m) throw new TsbpfError(`${what}: map '${name}' was not created`);
        return m.fd;
      };
      for (const prog of spec.programs) {
        if (wanted && !wanted.includes(prog.name)) continue;
        programs.set(prog.name, loadProgram(spec, prog, { btf, symbols, mapFd, options, log }));
      }
      for (const m of spec.maps) if (m.type === MapType.PROG_ARRAY) fillProgSlots(m, maps, programs, log);
      return new KernelCollection(spec, maps, programs, btf, pins);
    } catch (e) {
      for (const p of programs.values()) p.close();
      for (const m of maps.values()) m.close();
      btf?.close();
      throw e;
    } finally {
      symbols.close();
    }
  }

  /**
   * The map named `name`: its spec name, or for global data its section (".bss", ".rodata").
   * Throws naming the maps there are.
   */
  map(name: string): KernelMap {
    const m =
      this.maps.get(name) ?? this.maps.get(this.spec.globals.find((g) => g.section === name)?.map ?? "");
    if (!m) throw new TsbpfError(`no map '${name}' (maps: ${[...this.maps.keys()].join(", ") || "none"})`);
    return m;
  }

  /** The program named `name`; throws naming the programs there are. */
  program(name: string): KernelProgram {
    const p = this.programs.get(name);
    if (!p)
      throw new TsbpfError(
        `no program '${name}' (programs: ${[...this.programs.keys()].join(", ") || "none"})`,
      );
    return p;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every fd; pinned maps stay pinned (unpin them with unpin(path)). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    this.btf?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function sectionLayout(spec: ObjectSpec, options: KernelCollectionOptions): SectionLayout | undefined {
  if (options.elf === undefined && spec.btf && spec.datasecs.length > 0)
    return specDatasecLayout(spec, spec.btf);
  let elf = options.elf;
  if (elf === undefined && spec.file !== undefined) {
    try {
      elf = new Uint8Array(readFileSync(spec.file));
    } catch {
      return undefined;
    }
  }
  if (elf === undefined) return undefined;
  try {
    return elfLayout(elf instanceof Uint8Array ? ElfFile.parse(elf, spec.file) : elf);
  } catch {
    return undefined;
  }
}

/** libbpf's bpf_object__sanitize_and_load_btf: as is, then sanitized, then give up (BTF is optional). */
function loadObjectBtf(
  spec: ObjectSpec,
  btf: Btf,
  options: KernelCollectionOptions,
  log: (m: string) => void,
): KernelBtf | undefined {
  const prepared = prepareObjectBtf(spec, btf, sectionLayout(spec, options));
  for (const note of prepared.notes) log(`BTF: ${note}`);
  try {
    return loadBtfBlob(prepared.blob);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    log(`BTF: ${e.message}; retrying with kinds old kernels reject replaced`);
    try {
      return loadBtfBlob(sanitizeBtfKinds(prepared.blob, btf.littleEndian));
    } catch (e2) {
      if (!(e2 instanceof SyscallError)) throw e2;
      if (needsBtf(spec))
        throw new TsbpfError(
          `${spec.file ?? spec.name}: the kernel rejected the object's BTF, which its programs need: ${e2.message}`,
          { cause: e2 },
        );
      log(`BTF: ${e2.message}; loading without BTF (no func_info/line_info, no map key/value types)`);
      return undefined;
    }
  }
}

/** Whether some program cannot load without the object's BTF (libbpf's kernel_needs_btf). */
function needsBtf(spec: ObjectSpec): boolean {
  return spec.programs.some(
    (p) =>
      p.type === ProgramType.STRUCT_OPS || p.functions.some((f) => f.linkage === "global" && f.index > 0),
  );
}

/** Puts the inner maps named in a map-in-map's initial values into their slots. */
function fillMapSlots(m: MapSpec, maps: ReadonlyMap<string, KernelMap>): void {
  if (m.type !== MapType.ARRAY_OF_MAPS && m.type !== MapType.HASH_OF_MAPS) return;
  const outer = maps.get(m.name)!;
  for (const slot of m.initialValues) {
    if (!("map" in slot)) continue;
    const inner = maps.get(slot.map);
    if (!inner) throw new TsbpfError(`map '${m.name}': slot ${slot.index} names unknown map '${slot.map}'`);
    outer.update(u32(slot.index, outer.info.keySize), u32(inner.fd, 4));
  }
}

/** Puts the programs named in a prog array's initial values into their slots. */
function fillProgSlots(
  m: MapSpec,
  maps: ReadonlyMap<string, KernelMap>,
  programs: ReadonlyMap<string, KernelProgram>,
  log: (msg: string) => void,
): void {
  const array = maps.get(m.name)!;
  for (const slot of m.initialValues) {
    if (!("program" in slot)) continue;
    const prog = programs.get(slot.program);
    if (!prog) {
      log(`map '${m.name}': slot ${slot.index}: program '${slot.program}' was not loaded, slot left empty`);
      continue;
    }
    array.update(u32(slot.index, 4), u32(prog.fd, 4));
  }
}

/**
 * The attach_prog_fd and attach_btf_id of an freplace program: the target program's BTF (by its
 * btf_id) read back from the kernel and searched for the function, as libbpf does.
 */
function freplaceTarget(
  prog: ProgramSpec,
  options: KernelCollectionOptions,
): { progFd: number; id: number; module?: undefined } {
  const what = `freplace program '${prog.name}' (${prog.section})`;
  const entry = options.attachTargets?.[prog.name];
  if (!entry)
    throw new TsbpfError(
      `${what}: no target program (give KernelCollectionOptions.attachTargets['${prog.name}'] = { program })`,
    );
  const func = entry.function ?? prog.attachTo;
  if (!func)
    throw new TsbpfError(`${what}: no function to replace (give attachTargets['${prog.name}'].function)`);
  const progFd = typeof entry.program === "number" ? entry.program : entry.program.fd;
  const info = getProgramInfo(progFd);
  if (!info.btfId)
    throw new TsbpfError(`${what}: the target program '${info.name}' (id ${info.id}) was loaded without BTF`);
  const btfFd = btfGetFdById(info.btfId);
  let btf: Btf;
  try {
    btf = parseBtf(getBtfInfo(btfFd, true).data!);
  } finally {
    closeFd(btfFd);
  }
  const fn = btf.typeByName(func, "func");
  if (!fn)
    throw new TsbpfError(
      `${what}: the target program '${info.name}' (id ${info.id}) has no global function '${func}' in its BTF`,
    );
  return { progFd, id: fn.id };
}

function u32(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

interface ProgramContext {
  readonly btf: KernelBtf | undefined;
  readonly symbols: KernelSymbols;
  readonly mapFd: (index: number, name: string) => number;
  readonly options: KernelCollectionOptions;
  readonly log: (m: string) => void;
}

const EPERM = 1;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

function loadProgram(spec: ObjectSpec, prog: ProgramSpec, ctx: ProgramContext): KernelProgram {
  const what = `program '${prog.name}' (${prog.section})`;
  if (prog.type === ProgramType.UNSPEC)
    throw new TsbpfError(
      `${what}: unknown program type (section not in the libbpf table: give options.programType)`,
    );
  const core = applyCoreRelocations(spec, prog, ctx.symbols);
  for (const note of core.notes) ctx.log(`${what}: CO-RE: ${note}`);
  const relocated = relocateProgram({ ...prog, instructions: core.instructions }, ctx.mapFd, ctx.symbols);
  const ext = prog.type === ProgramType.EXT ? freplaceTarget(prog, ctx.options) : undefined;
  const target = ext ?? attachTarget(prog, ctx.symbols);
  const flags =
    (prog.sleepable ? ProgFlags.SLEEPABLE : 0) |
    (prog.flags.includes("xdp-frags") ? ProgFlags.XDP_HAS_FRAGS : 0);
  const withBtf = ctx.btf !== undefined && prog.funcInfo.length > 0;
  try {
    return KernelProgram.load(
      {
        type: prog.type,
        insns: relocated.instructions,
        license: prog.license,
        name: prog.name.replace(/[^A-Za-z0-9_.]/g, "_"),
        ...(prog.attachType !== undefined ? { expectedAttachType: prog.attachType } : {}),
        ...(target ? { attachBtfId: target.id } : {}),
        ...(ext ? { attachProgFd: ext.progFd } : {}),
        ...(target?.module !== undefined ? { attachBtfObjFd: ctx.symbols.moduleBtfFd(target.module) } : {}),
        progFlags: flags,
        kernVersion: spec.kernelVersion ?? kernelVersionCode(release()),
        ...(withBtf
          ? {
              btfFd: ctx.btf!.fd,
              // .BTF.ext counts bytes, BPF_PROG_LOAD counts instructions (slots).
              funcInfo: prog.funcInfo.map((f) => ({ insnOff: f.insnOff / 8, typeId: f.typeId })),
              lineInfo: prog.lineInfo.map((l) => ({
                insnOff: l.insnOff / 8,
                fileNameOff: l.fileNameOff,
                lineOff: l.lineOff,
                lineCol: (l.lineNumber << 10) | (l.column & 0x3ff),
              })),
            }
          : {}),
        ...(relocated.fdArray.length ? { fdArray: relocated.fdArray } : {}),
      },
      { logLevel: ctx.options.logLevel, describeInsn: lineDescriber(prog) },
    );
  } catch (e) {
    if (
      e instanceof SyscallError &&
      (TRAMPOLINE_ATTACH_TYPES.has(prog.attachType) || prog.type === ProgramType.EXT) &&
      [EPERM, EOPNOTSUPP, ENOTSUPP].includes(e.errno)
    )
      throw new NotSupportedError(
        "BPF trampolines",
        `${what} runs through a BPF trampoline (fentry/fexit/fmod_ret/lsm/freplace), which this kernel does not permit (${e.errnoName} from BPF_PROG_LOAD)` +
          (prog.type === ProgramType.EXT ? "" : ": use a tracepoint, tp_btf or raw_tp program instead"),
        { cause: e },
      );
    if (e instanceof VerifierError)
      throw new ProgramVerifierError(prog, relocated.instructions, e, spec.file);
    if (e instanceof SyscallError)
      throw new SyscallError(e.call, e.errno, {
        context: `load ${what} of ${spec.file ?? spec.name}`,
        hint: e.hint,
        cause: e,
      });
    throw e;
  }
}
