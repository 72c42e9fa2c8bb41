/**
 * The unified object API: `load("prog.bpf.o", { backend })` gives the same LoadedObject on the
 * Linux kernel (bpf(2): a KernelCollection) and on the userspace VM (a VmRuntime object):
 * programs to run like BPF_PROG_TEST_RUN, maps to read and write with byte keys and values, or
 * decoded through the object's BTF.
 *
 *     await using obj = await load("xdp_counter.bpf.o", { backend: "kernel" });
 *     const r = obj.program("xdp_count").run({ dataIn: packet });
 *     for (const [key, value] of obj.map("counts").typedEntries()) console.log(key, value);
 */
import { readFileSync } from "node:fs";
import type { Btf } from "./btf/index.js";
import { NotSupportedError, TsbpfError } from "./errors.js";
import { attachBySection, type AttachOptions, type Attachment } from "./kernel/attach.js";
import { KernelCollection, runKernelProgram } from "./kernel/object/index.js";
import { possibleCpus, type KernelMap, type KernelProgram } from "./kernel/index.js";
import {
  btfDecoderFor,
  loadObjectSpec,
  MapType,
  type DatasecLayout,
  readHostKconfig,
  resizeMaps,
  rewriteConstants,
  type ConstantValue,
  type KconfigValues,
  type MapSpec,
  type ObjectSpec,
  type ProgramSpec,
  type ProgramType,
} from "./object/index.js";
import type { VmMap } from "./vm/maps/map.js";
import type { VmObject } from "./vm/runtime/object.js";
import { VmRuntime, type VmRuntimeOptions } from "./vm/runtime/runtime.js";

export type Backend = "kernel" | "vm";

/** Options of load(). */
export interface LoadOptions {
  /** Where the object runs: "kernel" (bpf(2), needs root or CAP_BPF; the default) or "vm". */
  readonly backend?: Backend;
  /** Type of programs whose section does not name one (libbpf name or number). */
  readonly programType?: ProgramType | string;
  /** `.kconfig` extern values (default: the running kernel's config and version). */
  readonly kconfig?: KconfigValues;
  /** Kernel: directory replacing /sys/fs/bpf for pinned maps (libbpf's pin_root_path). */
  readonly pinPath?: string;
  /** Programs to load (default: all). */
  readonly programs?: readonly string[];
  /**
   * Initial values of global variables in .rodata/.data, by name: the `const volatile`
   * settings a libbpf skeleton writes before loading (`obj->rodata->targ_pid = pid`).
   */
  readonly constants?: Readonly<Record<string, ConstantValue | undefined>>;
  /** max_entries by map name (bpf_map__set_max_entries). */
  readonly mapSizes?: Readonly<Record<string, number>>;
  /** Debug messages of the loader. */
  readonly log?: (message: string) => void;
  /** VM: runtime options (CPUs, clock, random seed, trace sink…). */
  readonly vm?: VmRuntimeOptions;
}

/** Inputs of one program run (BPF_PROG_TEST_RUN). */
export interface RunInput {
  /** Packet or other data the program sees. */
  readonly dataIn?: Uint8Array;
  /** Context (struct __sk_buff, struct xdp_md, syscall arguments…). */
  readonly ctxIn?: Uint8Array;
  /** Runs to average the time over (default 1). */
  readonly repeat?: number;
}

/** Outputs of one program run. */
export interface RunResult {
  /** The program's return value as the kernel reports it (u32). */
  readonly retval: number;
  readonly dataOut: Uint8Array | undefined;
  readonly ctxOut: Uint8Array | undefined;
  /** Mean duration of one run in nanoseconds. */
  readonly nsPerRun: number;
}

/** A loaded program. */
export interface LoadedProgram {
  readonly name: string;
  readonly spec: ProgramSpec;
  /** Runs the program once (or `repeat` times) on the input. */
  run(input?: RunInput): RunResult;
  /**
   * Kernel backend: attaches the program by its section name, like libbpf's
   * bpf_program__attach (hooks a section cannot name come from `options`); close the
   * attachment's link to detach. The VM backend throws NotSupportedError.
   */
  attach(options?: AttachOptions): Attachment;
}

/**
 * The byte-level map operations: what KernelMap and VmMap both have, and what a LoadedMap
 * passes through to them. Keys and values are bytes laid out as the program sees them.
 */
export interface ByteMap {
  /** The value of `key`, undefined when absent. */
  lookup(key: Uint8Array): Uint8Array | undefined;
  /** Per-CPU maps: one value per CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined;
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  /** False when the key was absent. */
  delete(key: Uint8Array): boolean;
  keys(): IterableIterator<Uint8Array>;
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  /** Queue/stack/bloom filter: add a value. */
  push(value: Uint8Array, flags?: number): void;
  /** Queue/stack: remove and return the next value. */
  pop(): Uint8Array | undefined;
}

/** A map of a loaded object. Keys and values are bytes laid out as the program sees them. */
export interface LoadedMap extends ByteMap {
  readonly name: string;
  readonly spec: MapSpec;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Per-CPU maps: lookup gives every CPU's slot (each rounded up to 8 bytes). */
  readonly perCpu: boolean;
  /** Number of CPU slots of per-CPU values. */
  readonly cpus: number;
  /** The value of `key` decoded through the object's BTF (bytes when the map has no BTF type). */
  lookupTyped(key: Uint8Array): unknown;
  /** Every entry with key and value decoded through the object's BTF. */
  typedEntries(): IterableIterator<[unknown, unknown]>;
}

/** An object loaded on one backend: the same API on both. */
export interface LoadedObject extends Disposable, AsyncDisposable {
  readonly backend: Backend;
  readonly spec: ObjectSpec;
  /** Programs by name. */
  readonly programs: ReadonlyMap<string, LoadedProgram>;
  /** Maps by name (global data maps by their libbpf name, e.g. "prog.bss"). */
  readonly maps: ReadonlyMap<string, LoadedMap>;
  /** A program by name; throws naming the programs there are. */
  program(name: string): LoadedProgram;
  /** A map by name, or a global data map by section (".bss", ".data.stats"); throws naming the maps. */
  map(name: string): LoadedMap;
  /** Releases everything (kernel: closes every fd; pinned maps stay pinned). Idempotent. */
  close(): void;
}

/**
 * Loads an eBPF object file (path or bytes) on a backend. Bad input throws a TsbpfError
 * (FormatError, VerifierError, NotSupportedError…) with a one-line message.
 */
export async function load(path: string | Uint8Array, options: LoadOptions = {}): Promise<LoadedObject> {
  await Promise.resolve();
  return loadSync(path, options);
}

/** load() without the promise. */
export function loadSync(path: string | Uint8Array, options: LoadOptions = {}): LoadedObject {
  const file = typeof path === "string" ? path : undefined;
  let bytes: Uint8Array;
  if (typeof path === "string") {
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new TsbpfError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
        cause: e,
      });
    }
  } else bytes = path;
  let spec = loadObjectSpec(bytes, {
    ...(file !== undefined ? { file } : {}),
    ...(options.programType !== undefined ? { programType: options.programType } : {}),
    kconfig: options.kconfig ?? (() => readHostKconfig()),
    ...(options.pinPath !== undefined ? { pinRoot: options.pinPath } : {}),
  });
  if (options.constants) spec = rewriteConstants(spec, options.constants);
  if (options.mapSizes) spec = resizeMaps(spec, options.mapSizes);
  const backend = options.backend ?? "kernel";
  if (backend === "kernel") return loadKernel(spec, options);
  if (backend === "vm") return loadVm(spec, options);
  throw new TsbpfError(`unknown backend '${String(backend)}' (kernel or vm)`);
}

// ---------------------------------------------------------------- shared pieces

/** Finds a map by name or global data section. */
export function mapByName<M>(spec: ObjectSpec, maps: ReadonlyMap<string, M>, name: string): M {
  const m = maps.get(name) ?? maps.get(spec.globals.find((g) => g.section === name)?.map ?? "");
  if (!m) throw new TsbpfError(`no map '${name}' (maps: ${[...maps.keys()].join(", ") || "none"})`);
  return m;
}

/** Finds a program by name. */
export function programByName<P>(programs: ReadonlyMap<string, P>, name: string): P {
  const p = programs.get(name);
  if (!p)
    throw new TsbpfError(`no program '${name}' (programs: ${[...programs.keys()].join(", ") || "none"})`);
  return p;
}

/** BTF decoding of one map's keys and values (bytes when the map has no BTF type). */
export function typedDecoder(
  btf: Btf | undefined,
  spec: MapSpec,
  datasecs: readonly DatasecLayout[] = [],
): { key(b: Uint8Array): unknown; value(b: Uint8Array): unknown } {
  const decode = btfDecoderFor(datasecs);
  const decoder = (id: number) => (b: Uint8Array) => (btf && id ? decode(btf, id, b) : b);
  return { key: decoder(spec.btfKeyTypeId), value: decoder(spec.btfValueTypeId) };
}

// ---------------------------------------------------------------- kernel backend

const PER_CPU = new Set([
  MapType.PERCPU_ARRAY,
  MapType.PERCPU_HASH,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);

/** The part of LoadedMap that is the same on both backends: byte access passed to the map. */
abstract class ByteLoadedMap<M extends ByteMap> {
  constructor(protected readonly map: M) {}
  lookup(key: Uint8Array): Uint8Array | undefined {
    return this.map.lookup(key);
  }
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    return this.map.lookupPerCpu(key);
  }
  update(key: Uint8Array, value: Uint8Array, flags?: number): void {
    this.map.update(key, value, flags);
  }
  delete(key: Uint8Array): boolean {
    return this.map.delete(key);
  }
  keys(): IterableIterator<Uint8Array> {
    return this.map.keys();
  }
  entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.map.entries();
  }
  push(value: Uint8Array, flags?: number): void {
    this.map.push(value, flags);
  }
  pop(): Uint8Array | undefined {
    return this.map.pop();
  }
}

class KernelLoadedMap extends ByteLoadedMap<KernelMap> implements LoadedMap {
  readonly perCpu: boolean;
  readonly cpus: number;
  private readonly decode: ReturnType<typeof typedDecoder>;
  constructor(
    readonly spec: MapSpec,
    map: KernelMap,
    btf: Btf | undefined,
    datasecs: readonly DatasecLayout[],
  ) {
    super(map);
    this.perCpu = PER_CPU.has(spec.type);
    this.cpus = this.perCpu ? possibleCpus() : 1;
    this.decode = typedDecoder(btf, spec, datasecs);
  }
  get name(): string {
    return this.spec.name;
  }
  get type(): MapType {
    return this.map.info.type;
  }
  get keySize(): number {
    return this.map.info.keySize;
  }
  get valueSize(): number {
    return this.map.info.valueSize;
  }
  get maxEntries(): number {
    return this.map.info.maxEntries;
  }
  lookupTyped(key: Uint8Array): unknown {
    const v = this.perCpu ? this.lookupPerCpu(key) : this.lookup(key);
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.map((x) => this.decode.value(x)) : this.decode.value(v);
  }
  *typedEntries(): IterableIterator<[unknown, unknown]> {
    for (const k of this.keys()) {
      const v = this.lookupTyped(k);
      if (v !== undefined) yield [this.decode.key(k), v];
    }
  }
}

class KernelLoadedProgram implements LoadedProgram {
  constructor(
    readonly spec: ProgramSpec,
    private readonly prog: KernelProgram,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  run(input: RunInput = {}): RunResult {
    return runKernelProgram(this.prog, this.spec, input);
  }
  attach(options: AttachOptions = {}): Attachment {
    return attachBySection(this.prog, this.spec, options);
  }
}

class KernelLoadedObject implements LoadedObject {
  readonly backend = "kernel" as const;
  readonly programs: ReadonlyMap<string, LoadedProgram>;
  readonly maps: ReadonlyMap<string, LoadedMap>;
  constructor(private readonly collection: KernelCollection) {
    const spec = collection.spec;
    this.programs = new Map(
      [...collection.programs].map(([n, p]) => [
        n,
        new KernelLoadedProgram(
          spec.programs.find((s) => s.name === n)!,
          p,
        ),
      ]),
    );
    this.maps = new Map(
      [...collection.maps].map(([n, m]) => [
        n,
        new KernelLoadedMap(
          spec.maps.find((s) => s.name === n)!,
          m,
          spec.btf,
          spec.datasecs,
        ),
      ]),
    );
  }
  get spec(): ObjectSpec {
    return this.collection.spec;
  }
  /** The underlying KernelCollection (fds, pins, kernel programs). */
  get kernel(): KernelCollection {
    return this.collection;
  }
  program(name: string): LoadedProgram {
    return programByName(this.programs, name);
  }
  map(name: string): LoadedMap {
    return mapByName(this.spec, this.maps, name);
  }
  close(): void {
    this.collection.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function loadKernel(spec: ObjectSpec, options: LoadOptions): LoadedObject {
  const collection = KernelCollection.load(spec, {
    ...(options.pinPath !== undefined ? { pinPath: options.pinPath } : {}),
    ...(options.programs ? { programs: options.programs } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  return new KernelLoadedObject(collection);
}

// ---------------------------------------------------------------- VM backend

class VmLoadedMap extends ByteLoadedMap<VmMap> implements LoadedMap {
  constructor(
    readonly spec: MapSpec,
    map: VmMap,
  ) {
    super(map);
  }
  get name(): string {
    return this.spec.name;
  }
  get type(): MapType {
    return this.map.type;
  }
  get keySize(): number {
    return this.map.keySize;
  }
  get valueSize(): number {
    return this.map.valueSize;
  }
  get maxEntries(): number {
    return this.map.maxEntries;
  }
  get perCpu(): boolean {
    return this.map.perCpu;
  }
  get cpus(): number {
    return this.map.perCpu ? this.map.cpus : 1;
  }
  lookupTyped(key: Uint8Array): unknown {
    if (this.map.perCpu) return this.map.lookupPerCpu(key)?.map((v) => this.map.decodeValue(v));
    const v = this.map.lookup(key);
    return v === undefined ? undefined : this.map.decodeValue(v);
  }
  *typedEntries(): IterableIterator<[unknown, unknown]> {
    for (const k of this.keys()) {
      const v = this.lookupTyped(k);
      if (v !== undefined) yield [this.map.decodeKey(k), v];
    }
  }
}

class VmLoadedProgram implements LoadedProgram {
  constructor(
    readonly spec: ProgramSpec,
    private readonly object: VmObject,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  run(input: RunInput = {}): RunResult {
    // A program the VM could not load throws its reason here.
    const prog = this.object.program(this.spec.name);
    const r = prog.testRun(
      { ...(input.dataIn ? { dataIn: input.dataIn } : {}), ...(input.ctxIn ? { ctxIn: input.ctxIn } : {}) },
      input.repeat !== undefined ? { repeat: input.repeat } : {},
    );
    return { retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut, nsPerRun: r.nsPerRun };
  }
  attach(): Attachment {
    throw new NotSupportedError(
      "attaching programs to kernel hooks in the VM",
      'load the object with { backend: "kernel" } to attach it, or run() it here',
    );
  }
}

class VmLoadedObject implements LoadedObject {
  readonly backend = "vm" as const;
  readonly programs: ReadonlyMap<string, LoadedProgram>;
  readonly maps: ReadonlyMap<string, LoadedMap>;
  #closed = false;
  constructor(
    readonly spec: ObjectSpec,
    /** The VM runtime (env: CPU, clock, random, trace lines) and the loaded object. */
    readonly runtime: VmRuntime,
    readonly object: VmObject,
    only: readonly string[] | undefined,
  ) {
    this.programs = new Map(
      spec.programs
        .filter((p) => !only || only.includes(p.name))
        .map((p) => [p.name, new VmLoadedProgram(p, object)]),
    );
    this.maps = new Map(
      [...object.maps].map(([n, m]) => [
        n,
        new VmLoadedMap(
          spec.maps.find((s) => s.name === n)!,
          m,
        ),
      ]),
    );
  }
  program(name: string): LoadedProgram {
    return programByName(this.programs, name);
  }
  map(name: string): LoadedMap {
    return mapByName(this.spec, this.maps, name);
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.object.maps.values()) m.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** The CPU count per-CPU values have on this host: possible CPUs on Linux (as the kernel), else the VM's default. */
function defaultCpus(): number | undefined {
  try {
    return possibleCpus();
  } catch {
    return undefined;
  }
}

function loadVm(spec: ObjectSpec, options: LoadOptions): LoadedObject {
  const cpus = options.vm?.cpus ?? defaultCpus();
  const runtime = new VmRuntime({ ...(cpus !== undefined ? { cpus } : {}), ...options.vm });
  if (options.programs) {
    const unknown = options.programs.filter((n) => !spec.programs.some((p) => p.name === n));
    if (unknown.length)
      throw new TsbpfError(
        `${spec.file ?? spec.name}: no program named ${unknown.map((n) => `'${n}'`).join(", ")}`,
      );
  }
  return new VmLoadedObject(spec, runtime, runtime.loadObject(spec), options.programs);
}
