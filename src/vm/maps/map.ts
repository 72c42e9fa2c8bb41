/**
 * The common shape of the VM's maps.
 *
 * A map has two faces:
 * - the host face (`lookup`, `update`, `delete`, `keys`…), like BPF_MAP_* syscalls: bytes in,
 *   bytes out (copies), errors thrown as MapError carrying the kernel's errno;
 * - the program face (`lookupElem`, `updateElem`…), used by the helpers: errno results as the
 *   kernel's helpers return them (0 or a negative errno), values as addresses in VM memory.
 *
 * Every map owns a small read-only "handle" region; its base address is what `lddw rX, map`
 * loads and what helpers receive as their `struct bpf_map *` argument. The handle holds
 * { u32 map_type, key_size, value_size, max_entries, map_flags } so that a program reading it
 * sees something meaningful. `MapTable.mapAt(address)` resolves a handle back to its map; inner
 * maps of map-in-maps are found the same way, so a lookup in an array_of_maps returns the inner
 * map's handle.
 */
import type { Btf } from "../../btf/index.js";
import type { BtfDecoder } from "../../object/btf-decode.js";
import { TsbpfError } from "../../errors.js";
import type { DatasecLayout } from "../../object/btf-fixup.js";
import type { MapSpec } from "../../object/spec.js";
import { MapType, mapTypeName } from "../../object/types.js";
import type { Memory, Region } from "../memory.js";
import { Errno, errnoName, MapFlags, UpdateFlags } from "./constants.js";

/** How many deleted value regions a map keeps unmapped-but-reserved (see BaseMap.retireRegion). */
export const GRAVEYARD_SIZE = 4096;

/** What creating a map needs: the shape of the object model's MapSpec (any MapSpec fits). */
export interface VmMapSpec {
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  /** map_extra: bloom filter hash count (low 4 bits). */
  readonly mapExtra?: bigint;
  readonly innerMap?: VmMapSpec | undefined;
  /** Initial bytes of a global data map's single value. */
  readonly contents?: Uint8Array | undefined;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly pinning?: MapSpec["pinning"];
}

export interface VmMapOptions {
  /** Number of CPUs: per-CPU maps hold one value per CPU; perf buffers are per CPU. */
  readonly cpus: number;
  /** The object's BTF, for `decodeKey` / `decodeValue` with the spec's BTF type ids. */
  readonly btf?: Btf | undefined;
  /** Bloom filter / hash seed; the kernel draws a random one unless BPF_F_ZERO_SEED (default 0). */
  readonly hashSeed?: number;
  /** Per-CPU byte budget of a perf_event_array's host buffers (default 64 pages, like perf's default). */
  readonly perfBufferBytes?: number;
  /**
   * Real offsets of the object's DATASEC variables (ObjectSpec.datasecs): global data values
   * decode each variable at its offset (clang leaves the DATASEC's offsets 0).
   */
  readonly datasecs?: readonly DatasecLayout[];
}

/** A map operation failed the way the kernel's would: names the map, the operation and the errno. */
export class MapError extends TsbpfError {
  override name = "MapError";
  constructor(
    readonly map: string,
    readonly op: string,
    /** Positive errno (Errno.ENOENT…). */
    readonly errno: number,
    detail?: string,
  ) {
    super(`map '${map}': ${op}: ${detail ?? describeErrno(errno)} (${errnoName(errno)})`);
  }
}

const ERRNO_TEXT: Readonly<Record<number, string>> = {
  [Errno.ENOENT]: "no such element",
  [Errno.EEXIST]: "element exists",
  [Errno.E2BIG]: "map is full or index out of range",
  [Errno.EINVAL]: "invalid argument",
  [Errno.ENOSPC]: "no space left",
  [Errno.EPERM]: "operation not permitted (map is frozen)",
  [Errno.ENOTSUPP]: "operation not supported by this map type",
  [Errno.EOPNOTSUPP]: "operation not supported by this map type",
  [Errno.EAGAIN]: "try again (no space)",
  [Errno.EBUSY]: "busy",
};
const describeErrno = (errno: number): string => ERRNO_TEXT[errno] ?? "failed";

/** A map of the userspace VM. */
export interface VmMap {
  readonly name: string;
  readonly type: MapType;
  /** libbpf's name of the type: "percpu_hash". */
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly spec: VmMapSpec;
  readonly memory: Memory;
  readonly cpus: number;
  /** Whether values hold one slot per CPU. */
  readonly perCpu: boolean;
  /** Address of the map's handle region: the value of `lddw rX, map`. */
  readonly handle: bigint;
  /** The map's id in its memory (its handle's region id): `handle === BigInt(id) << 32n`. */
  readonly id: number;
  readonly frozen: boolean;

  // ---- host face (throws MapError) ----
  /** A copy of the value of `key` (per-CPU maps: all CPUs' slots, each rounded up to 8 bytes, as BPF_MAP_LOOKUP_ELEM gives). */
  lookup(key: Uint8Array): Uint8Array | undefined;
  /** Per-CPU maps: one copy of the value per CPU. */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined;
  /** BPF_MAP_UPDATE_ELEM (per-CPU maps take all CPUs' slots, or one value for every CPU). */
  update(key: Uint8Array, value: Uint8Array, flags?: number): void;
  /** BPF_MAP_DELETE_ELEM; false when the key was absent. */
  delete(key: Uint8Array): boolean;
  /** Keys in the map's iteration order (see each kind for the order). */
  keys(): IterableIterator<Uint8Array>;
  /** [key, value] pairs; values as `lookup` gives them. */
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  /** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first when `key` is undefined or absent). */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined;
  /** Queue, stack, bloom filter: push a value (UpdateFlags.EXIST overwrites the oldest when full). */
  push(value: Uint8Array, flags?: number): void;
  /** Queue, stack: remove and return the next value. */
  pop(): Uint8Array | undefined;
  /** Queue, stack: the next value without removing it. */
  peek(): Uint8Array | undefined;
  /** Bloom filter: whether `value` may be in the set (no false negatives). */
  contains(value: Uint8Array): boolean;
  /**
   * Address of byte `offset` of the value of `key` (a key, or an index for arrays) on CPU `cpu`,
   * as a program would see it; undefined when absent. Global data: `valueAddress(0, off)`.
   */
  valueAddress(key: Uint8Array | number, offset?: number, cpu?: number): bigint | undefined;
  /** BPF_MAP_FREEZE: no more host writes. */
  freeze(): void;
  /** Unmap the map's regions; its handle stops resolving. */
  close(): void;
  /** The key decoded with its BTF type (see decodeBtfValue); the bytes when the map has no BTF key type. */
  decodeKey(key: Uint8Array): unknown;
  /** The value decoded with its BTF type; the bytes when the map has no BTF value type. */
  decodeValue(value: Uint8Array): unknown;

  // ---- program face (results are 0 / negative errno / addresses, as the helpers return) ----
  /** bpf_map_lookup_elem on CPU `cpu`: the value's address, 0n when absent. */
  lookupElem(key: Uint8Array, cpu: number): bigint;
  /** bpf_map_lookup_percpu_elem: the value of `key` on CPU `cpu` (0n when absent or cpu is out of range). */
  lookupPercpuElem(key: Uint8Array, cpu: number): bigint;
  /** bpf_map_update_elem from a program on CPU `cpu` (per-CPU maps: that CPU's slot). */
  updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number;
  deleteElem(key: Uint8Array): number;
  pushElem(value: Uint8Array, flags: number): number;
  /** Copies the popped value into `out`. */
  popElem(out: Uint8Array): number;
  /** Copies the next value into `out`; bloom filter: tests `out` (0 = maybe present, -ENOENT = absent). */
  peekElem(out: Uint8Array): number;
  /**
   * bpf_for_each_map_elem: calls `fn(keyAddress, valueAddress)` for each element (values of CPU
   * `cpu`) until it returns true; returns the number of elements visited, or a negative errno.
   */
  forEachElem(cpu: number, fn: (key: bigint, value: bigint) => boolean): number;
}

/** Resolves the map argument of helpers (a handle address) to its map. */
export interface MapTable {
  mapAt(address: bigint): VmMap | undefined;
  /** mapAt of the address `id << 32` given as its region id (helpers' fast path, no BigInt). */
  mapById?(id: number): VmMap | undefined;
  handleOf(map: VmMap): bigint;
}

/** The maps living in one Memory, by the region ids of their handles and of the regions they own. */
interface MemoryMaps {
  readonly byHandle: Map<number, VmMap>;
  /** Region id -> the map owning it (ring buffer data, values), for helpers given a data pointer. */
  readonly owners: Map<number, VmMap>;
}
const registries = new WeakMap<Memory, MemoryMaps>();
function registryOf(memory: Memory): MemoryMaps {
  let r = registries.get(memory);
  if (!r) registries.set(memory, (r = { byHandle: new Map(), owners: new Map() }));
  return r;
}

/** The table of every open map created on `memory` (what helpers use to resolve handles). */
export function memoryMapTable(memory: Memory): MapTable {
  const r = registryOf(memory);
  return {
    mapAt(address: bigint): VmMap | undefined {
      const a = BigInt.asUintN(64, address);
      if ((a & 0xffffffffn) !== 0n) return undefined;
      return r.byHandle.get(Number(a >> 32n));
    },
    mapById: (id: number): VmMap | undefined => r.byHandle.get(id),
    handleOf: (map: VmMap): bigint => map.handle,
  };
}

/** The map owning the region `address` points into, if a map registered it (ring buffer samples). */
export function regionOwner(memory: Memory, address: bigint): VmMap | undefined {
  const region = memory.regionAt(address);
  return region ? registryOf(memory).owners.get(region.id) : undefined;
}

/** Bytes as a string usable as a JS Map key (one char per byte). */
export function keyId(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** A little-endian u32 of 4 bytes. */
export function u32Key(index: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, index >>> 0, true);
  return b;
}
/** The u32 of a 4-byte key. */
export const readU32 = (bytes: Uint8Array): number =>
  (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;

/** Decoder of BTF-typed keys and values, set by `createVmMap` when the spec has BTF types. */
export type { BtfDecoder };

/**
 * What every map kind shares: the handle, host wrappers that turn errno results into MapError,
 * and "not supported" defaults that each kind overrides for the operations it has.
 */
export abstract class BaseMap implements VmMap {
  readonly name: string;
  readonly type: MapType;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly cpus: number;
  readonly perCpu: boolean = false;
  readonly handleRegion: Region;
  #frozen = false;
  #closed = false;
  #keyScratch: Region | undefined;
  readonly #graveyard: Region[] = [];
  /** Regions created by the map, unmapped by close(). */
  protected readonly ownedRegions: Region[] = [];
  /** @internal set by createVmMap */
  btfDecoder: BtfDecoder | undefined;

  constructor(
    readonly spec: VmMapSpec,
    readonly memory: Memory,
    readonly options: VmMapOptions,
  ) {
    this.name = spec.name;
    this.type = spec.type;
    this.typeName = mapTypeName(spec.type);
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    if (!Number.isInteger(options.cpus) || options.cpus < 1 || options.cpus > 4096)
      throw new TsbpfError(`map '${spec.name}': cpus must be an integer in 1..4096 (got ${options.cpus})`);
    this.cpus = options.cpus;
    for (const [field, v] of [
      ["key size", spec.keySize],
      ["value size", spec.valueSize],
      ["max entries", spec.maxEntries],
    ] as const)
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        this.createError(Errno.EINVAL, `${field} ${v} is not a u32`);
    const header = new Uint8Array(32);
    const dv = new DataView(header.buffer);
    [spec.type, spec.keySize, spec.valueSize, spec.maxEntries, this.flags].forEach((v, i) =>
      dv.setUint32(i * 4, v >>> 0, true),
    );
    this.handleRegion = memory.addRegion({
      kind: "other",
      name: `map '${spec.name}'`,
      bytes: header,
      writable: false,
    });
    registryOf(memory).byHandle.set(this.handleRegion.id, this);
  }

  get handle(): bigint {
    return this.handleRegion.base;
  }
  get id(): number {
    return this.handleRegion.id;
  }
  get frozen(): boolean {
    return this.#frozen;
  }
  /** Programs may not write values (BPF_F_RDONLY_PROG: .rodata, .kconfig). */
  get readOnlyForPrograms(): boolean {
    return (this.flags & MapFlags.RDONLY_PROG) !== 0;
  }

  /** Throw the error BPF_MAP_CREATE would give. */
  protected createError(errno: number, detail: string): never {
    throw new MapError(this.spec.name, `create ${mapTypeName(this.spec.type)} map`, errno, detail);
  }
  /** A region owned by this map, registered so helpers can find the map from a pointer into it. */
  protected addOwnedRegion(name: string, bytes: Uint8Array, writable = !this.readOnlyForPrograms): Region {
    const r = this.memory.addRegion({
      kind: "map-value",
      name: `map '${this.name}' ${name}`,
      bytes,
      writable,
    });
    this.ownedRegions.push(r);
    registryOf(this.memory).owners.set(r.id, this);
    return r;
  }
  protected removeOwnedRegion(r: Region): void {
    registryOf(this.memory).owners.delete(r.id);
    this.memory.removeRegion(r);
    const i = this.ownedRegions.indexOf(r);
    if (i >= 0) this.ownedRegions.splice(i, 1);
  }

  /** Throw MapError when `errno` (a helper-style result) is negative. */
  protected check(op: string, result: number, detail?: string): void {
    if (result < 0) throw new MapError(this.name, op, -result, detail);
  }
  protected checkKey(op: string, key: Uint8Array): void {
    if (key.length !== this.keySize)
      throw new MapError(
        this.name,
        op,
        Errno.EINVAL,
        `key of ${key.length} bytes, the map's keys have ${this.keySize}`,
      );
  }
  protected checkValue(op: string, value: Uint8Array, sizes: readonly number[] = [this.valueSize]): void {
    if (!sizes.includes(value.length))
      throw new MapError(
        this.name,
        op,
        Errno.EINVAL,
        `value of ${value.length} bytes, expected ${sizes.join(" or ")}`,
      );
  }
  protected checkWritable(op: string): void {
    if (this.#frozen) throw new MapError(this.name, op, Errno.EPERM);
  }
  /** Host update flags: like checkUpdateFlags, with a clear word for BPF_F_LOCK. */
  protected checkHostFlags(op: string, flags: number): void {
    if (flags & UpdateFlags.F_LOCK)
      throw new MapError(
        this.name,
        op,
        Errno.EINVAL,
        "BPF_F_LOCK needs a bpf_spin_lock, which the VM does not have",
      );
    if (checkUpdateFlags(flags) < 0)
      throw new MapError(this.name, op, Errno.EINVAL, `bad flags 0x${flags.toString(16)}`);
  }
  /**
   * The address of a read-only copy of `key` (for_each_map_elem callbacks get a key pointer);
   * one scratch region per map, overwritten by each call.
   */
  protected scratchKey(key: Uint8Array): bigint {
    if (!this.#keyScratch) {
      this.#keyScratch = this.memory.addRegion({
        kind: "other",
        name: `map '${this.name}' key`,
        length: Math.max(this.keySize, 4),
        writable: false,
      });
      this.ownedRegions.push(this.#keyScratch);
    }
    this.#keyScratch.bytes.set(key);
    return this.#keyScratch.base;
  }
  /**
   * Unmap a value region whose element was deleted, so that a stale pointer to it faults rather
   * than aliasing a newer element: a zero-length placeholder region named "... (deleted)" takes
   * the freed region id, and is itself released only after GRAVEYARD_SIZE later deletions.
   */
  protected retireRegion(r: Region): void {
    this.removeOwnedRegion(r);
    const tomb = this.memory.addRegion({
      kind: "other",
      name: `${r.name} (deleted)`,
      length: 0,
      writable: false,
    });
    this.#graveyard.push(tomb);
    if (this.#graveyard.length > GRAVEYARD_SIZE) this.memory.removeRegion(this.#graveyard.shift()!);
  }
  protected unsupported(op: string): never {
    throw new MapError(this.name, op, Errno.ENOTSUPP, `${op} is not supported by ${this.typeName} maps`);
  }

  // ---- host face: defaults ----
  lookup(key: Uint8Array): Uint8Array | undefined {
    void key;
    this.unsupported("lookup");
  }
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    void key;
    throw new MapError(this.name, "lookup per CPU", Errno.EINVAL, `${this.typeName} is not a per-CPU map`);
  }
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    void [key, value, flags];
    this.unsupported("update");
  }
  delete(key: Uint8Array): boolean {
    void key;
    this.unsupported("delete");
  }
  *keys(): IterableIterator<Uint8Array> {
    for (let k = this.nextKey(undefined); k !== undefined; k = this.nextKey(k)) yield k;
  }
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v !== undefined) yield [k, v];
    }
  }
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    void key;
    this.unsupported("get next key");
  }
  push(value: Uint8Array, flags = 0): void {
    void [value, flags];
    this.unsupported("push");
  }
  pop(): Uint8Array | undefined {
    this.unsupported("pop");
  }
  peek(): Uint8Array | undefined {
    this.unsupported("peek");
  }
  contains(value: Uint8Array): boolean {
    void value;
    this.unsupported("contains");
  }
  valueAddress(key: Uint8Array | number, offset = 0, cpu = 0): bigint | undefined {
    void [key, offset, cpu];
    return undefined;
  }
  freeze(): void {
    this.#frozen = true;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reg = registryOf(this.memory);
    reg.byHandle.delete(this.handleRegion.id);
    this.memory.removeRegion(this.handleRegion);
    for (const r of [...this.ownedRegions]) this.removeOwnedRegion(r);
    for (const r of this.#graveyard.splice(0)) this.memory.removeRegion(r);
  }
  decodeKey(key: Uint8Array): unknown {
    const id = this.spec.btfKeyTypeId ?? 0;
    return this.options.btf && id && this.btfDecoder ? this.btfDecoder(this.options.btf, id, key) : key;
  }
  decodeValue(value: Uint8Array): unknown {
    const id = this.spec.btfValueTypeId ?? 0;
    if (!this.options.btf || !id || !this.btfDecoder) return value;
    if (!this.perCpu) return this.btfDecoder(this.options.btf, id, value);
    const stride = (this.valueSize + 7) & ~7;
    const out: unknown[] = [];
    for (let c = 0; c * stride < value.length; c++)
      out.push(
        this.btfDecoder(this.options.btf, id, value.subarray(c * stride, c * stride + this.valueSize)),
      );
    return out;
  }

  // ---- program face: defaults (what the kernel's ops return for unsupported operations) ----
  lookupElem(key: Uint8Array, cpu: number): bigint {
    void [key, cpu];
    return 0n;
  }
  lookupPercpuElem(key: Uint8Array, cpu: number): bigint {
    void [key, cpu];
    return 0n;
  }
  updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    void [key, value, flags, cpu];
    return -Errno.ENOTSUPP;
  }
  deleteElem(key: Uint8Array): number {
    void key;
    return -Errno.ENOTSUPP;
  }
  pushElem(value: Uint8Array, flags: number): number {
    void [value, flags];
    return -Errno.ENOTSUPP;
  }
  popElem(out: Uint8Array): number {
    void out;
    return -Errno.ENOTSUPP;
  }
  peekElem(out: Uint8Array): number {
    void out;
    return -Errno.ENOTSUPP;
  }
  forEachElem(cpu: number, fn: (key: bigint, value: bigint) => boolean): number {
    void [cpu, fn];
    return -Errno.EINVAL;
  }
}

/** Checks the update flags of a keyed map: -EINVAL for unknown bits and for BPF_F_LOCK (no spin locks here). */
export function checkUpdateFlags(flags: number): number {
  if (flags < 0 || flags > 2) return -Errno.EINVAL;
  return 0;
}

export { MapType };
