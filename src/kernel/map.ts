import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { SyscallError } from "./errors.js";
import {
  ENOSPC,
  MapType,
  UpdateFlags,
  closeFd,
  getMapInfo,
  mapCreate,
  mapDeleteBatch,
  mapDeleteElem,
  mapFreeze,
  mapGetFdById,
  mapGetNextId,
  mapGetNextKey,
  mapLookupAndDeleteBatch,
  mapLookupAndDeleteElem,
  mapLookupBatch,
  mapLookupElem,
  mapUpdateBatch,
  mapUpdateElem,
  objGet,
  objPin,
  parseMapType,
  type MapInfo,
} from "./sys/index.js";

/** What BPF_MAP_CREATE needs. */
export interface MapSpec {
  /** A MapType or libbpf's name of one ("hash", "percpu_array"). */
  type: MapType | string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags (MapFlags.*). */
  flags?: number;
  /** At most 15 characters of [A-Za-z0-9_.]. */
  name?: string;
  /** For array_of_maps / hash_of_maps: a map (or its fd) with the inner maps' shape. */
  innerMap?: KernelMap | number;
  numaNode?: number;
  /** Type-specific: bloom filter hash count, arena address… */
  mapExtra?: bigint | number;
  ifindex?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  valueTypeBtfObjFd?: number;
  tokenFd?: number;
}

/** Map types whose userspace values hold one slot per possible CPU. */
const PER_CPU_TYPES: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);

let possibleCpuCount: number | undefined;

/** Number of possible CPUs (/sys/devices/system/cpu/possible), the slot count of per-CPU values. */
export function possibleCpus(): number {
  if (possibleCpuCount !== undefined) return possibleCpuCount;
  const text = readFileSync("/sys/devices/system/cpu/possible", "utf8").trim();
  let n = 0;
  for (const range of text.split(",")) {
    const [lo, hi] = range.split("-").map(Number);
    n += (hi ?? lo!) - lo! + 1;
  }
  return (possibleCpuCount = n);
}

const VALID_NAME = /^[A-Za-z0-9_.]*$/;

/** Checks an object name the way the kernel does; long names are cut to 15 characters like libbpf. */
export function objectName(name: string | undefined, what: string): string {
  const n = (name ?? "").slice(0, 15);
  if (!VALID_NAME.test(n))
    throw new TsbpfError(`${what} name '${name}': the kernel accepts only [A-Za-z0-9_.]`);
  return n;
}

/**
 * A map living in the kernel, held by a file descriptor. Keys and values are bytes; per-CPU
 * maps take and give one value slot (rounded up to 8 bytes) per possible CPU.
 */
export class KernelMap {
  #fd: number;
  readonly info: MapInfo;

  private constructor(fd: number, info: MapInfo) {
    this.#fd = fd;
    this.info = info;
  }

  /** Creates a map (BPF_MAP_CREATE). */
  static create(spec: MapSpec): KernelMap {
    const name = objectName(spec.name, "map");
    const type = parseMapType(spec.type);
    const innerFd = spec.innerMap instanceof KernelMap ? spec.innerMap.fd : spec.innerMap;
    const fd = mapCreate(
      {
        map_type: type,
        key_size: spec.keySize,
        value_size: spec.valueSize,
        max_entries: spec.maxEntries,
        map_flags: spec.flags ?? 0,
        inner_map_fd: innerFd ?? 0,
        numa_node: spec.numaNode ?? 0,
        map_name: name,
        map_ifindex: spec.ifindex ?? 0,
        btf_fd: spec.btfFd ?? 0,
        btf_key_type_id: spec.btfKeyTypeId ?? 0,
        btf_value_type_id: spec.btfValueTypeId ?? 0,
        btf_vmlinux_value_type_id: spec.btfVmlinuxValueTypeId ?? 0,
        map_extra: spec.mapExtra ?? 0,
        value_type_btf_obj_fd: spec.valueTypeBtfObjFd ?? 0,
        map_token_fd: spec.tokenFd ?? 0,
      },
      `create ${typeof spec.type === "string" ? spec.type : MapType[type]?.toLowerCase()} map '${name}'`,
    );
    return KernelMap.fromFd(fd);
  }

  /** Takes ownership of a map fd (closing it if it is not a map). */
  static fromFd(fd: number): KernelMap {
    try {
      return new KernelMap(fd, getMapInfo(fd));
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Opens the map with this id (BPF_MAP_GET_FD_BY_ID). */
  static fromId(id: number, openFlags = 0): KernelMap {
    return KernelMap.fromFd(mapGetFdById(id, openFlags));
  }

  /** Ids of every map in the kernel, in increasing order (BPF_MAP_GET_NEXT_ID). */
  static *ids(): Generator<number> {
    for (let id = mapGetNextId(0); id !== undefined; id = mapGetNextId(id)) yield id;
  }

  /**
   * Opens the one map named `name`; TsbpfError when none or several have that name (names
   * are not unique: open those by id).
   */
  static fromName(name: string): KernelMap {
    const found: number[] = [];
    for (const id of KernelMap.ids()) {
      let fd: number;
      try {
        fd = mapGetFdById(id);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === 2) continue; // gone meanwhile
        throw e;
      }
      try {
        if (getMapInfo(fd).name === name) found.push(id);
      } finally {
        closeFd(fd);
      }
    }
    if (found.length === 0) throw new TsbpfError(`no map is named '${name}'`);
    if (found.length > 1)
      throw new TsbpfError(`${found.length} maps are named '${name}' (ids ${found.join(", ")}): use an id`);
    return KernelMap.fromId(found[0]!);
  }

  /** Opens the map pinned at `path` (BPF_OBJ_GET). */
  static fromPin(path: string, fileFlags = 0): KernelMap {
    return KernelMap.fromFd(objGet(path, fileFlags));
  }

  /** The file descriptor; throws once the map is closed. */
  get fd(): number {
    if (this.#fd < 0) throw new TsbpfError(`map '${this.info.name}' (id ${this.info.id}) is closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Whether values hold one slot per possible CPU. */
  get perCpu(): boolean {
    return PER_CPU_TYPES.has(this.info.type);
  }

  /** Bytes of a value as userspace exchanges it (all CPU slots of a per-CPU map). */
  get valueBufferSize(): number {
    return this.perCpu ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus() : this.info.valueSize;
  }

  private what(): string {
    return `map '${this.info.name}' (id ${this.info.id})`;
  }

  private checked<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SyscallError && !e.message.startsWith("map ")) {
        throw new SyscallError(e.call, e.errno, { context: `${this.what()}: ${op}`, cause: e });
      }
      throw e;
    }
  }

  private key(key: Uint8Array | null | undefined): Uint8Array | null {
    if (this.info.keySize === 0) return null;
    if (!key || key.byteLength !== this.info.keySize) {
      throw new TsbpfError(
        `${this.what()}: key must be ${this.info.keySize} bytes, got ${key?.byteLength ?? 0}`,
      );
    }
    return key;
  }

  private value(value: Uint8Array): Uint8Array {
    if (value.byteLength !== this.valueBufferSize) {
      throw new TsbpfError(
        `${this.what()}: value must be ${this.valueBufferSize} bytes${this.perCpu ? ` (${possibleCpus()} CPU slots)` : ""}, got ${value.byteLength}`,
      );
    }
    return value;
  }

  /** The value of `key` (all CPU slots for per-CPU maps), undefined when absent. */
  lookup(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    const k = this.key(key);
    const value = new Uint8Array(this.valueBufferSize);
    return this.checked("lookup", () => mapLookupElem(this.fd, k, value, flags)) ? value : undefined;
  }

  /** The per-CPU values of `key`, one per possible CPU. */
  lookupPerCpu(key: Uint8Array | null): Uint8Array[] | undefined {
    const all = this.lookup(key);
    return all && this.splitPerCpu(all);
  }

  /** Splits a per-CPU value buffer into one value per CPU. */
  splitPerCpu(all: Uint8Array): Uint8Array[] {
    const stride = Math.ceil(this.info.valueSize / 8) * 8;
    return Array.from({ length: all.byteLength / stride }, (_, i) =>
      all.slice(i * stride, i * stride + this.info.valueSize),
    );
  }

  /** Sets `key` to `value` (UpdateFlags.ANY / NOEXIST / EXIST). */
  update(key: Uint8Array | null, value: Uint8Array, flags: number = UpdateFlags.ANY): void {
    const k = this.key(key);
    const v = this.value(value);
    this.checked("update", () => mapUpdateElem(this.fd, k, v, flags));
  }

  /** Sets a per-CPU map's value from one value per possible CPU. */
  updatePerCpu(key: Uint8Array | null, values: readonly Uint8Array[], flags: number = UpdateFlags.ANY): void {
    const stride = Math.ceil(this.info.valueSize / 8) * 8;
    const all = new Uint8Array(this.valueBufferSize);
    if (values.length !== possibleCpus()) {
      throw new TsbpfError(`${this.what()}: need ${possibleCpus()} per-CPU values, got ${values.length}`);
    }
    values.forEach((v, i) => all.set(v.subarray(0, this.info.valueSize), i * stride));
    this.update(key, all, flags);
  }

  /** Deletes `key`; false when it was absent. */
  delete(key: Uint8Array): boolean {
    const k = this.key(key)!;
    return this.checked("delete", () => mapDeleteElem(this.fd, k));
  }

  /** The key after `key` (the first key without one); undefined at the end. */
  nextKey(key?: Uint8Array | null): Uint8Array | undefined {
    const next = new Uint8Array(this.info.keySize);
    return this.checked("next key", () => mapGetNextKey(this.fd, key ?? null, next)) ? next : undefined;
  }

  /** Every key, in the kernel's order (BPF_MAP_GET_NEXT_KEY). */
  *keys(): Generator<Uint8Array> {
    let key: Uint8Array | undefined;
    while ((key = this.nextKey(key)) !== undefined) yield key;
  }

  /** Every [key, value] pair; keys deleted meanwhile are skipped. */
  *entries(): Generator<[Uint8Array, Uint8Array]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) yield [key, value];
    }
  }

  /** Pushes onto a queue or stack (or adds to a bloom filter). */
  push(value: Uint8Array, flags = 0): void {
    this.update(null, value, flags);
  }

  /** Pops from a queue or stack; undefined when empty. */
  pop(): Uint8Array | undefined {
    const value = new Uint8Array(this.valueBufferSize);
    return this.checked("pop", () => mapLookupAndDeleteElem(this.fd, null, value)) ? value : undefined;
  }

  /** Looks up and deletes `key` in one step; undefined when absent. */
  lookupAndDelete(key: Uint8Array): Uint8Array | undefined {
    const k = this.key(key);
    const value = new Uint8Array(this.valueBufferSize);
    return this.checked("lookup and delete", () => mapLookupAndDeleteElem(this.fd, k, value))
      ? value
      : undefined;
  }

  /** Bloom filters: whether `value` may have been added (false means surely not). */
  mayContain(value: Uint8Array): boolean {
    const v = this.value(value).slice();
    return this.checked("lookup", () => mapLookupElem(this.fd, null, v));
  }

  /**
   * Every [key, value] pair read in batches of `batchSize` (BPF_MAP_LOOKUP_BATCH, or
   * LOOKUP_AND_DELETE_BATCH when `andDelete`), fewer syscalls than entries().
   */
  *batchEntries(batchSize = 128, andDelete = false): Generator<[Uint8Array, Uint8Array]> {
    const { keySize } = this.info;
    const valueSize = this.valueBufferSize;
    // The batch cursor is a key for arrays and a bucket number for hashes: big enough for both.
    const cursorSize = Math.max(keySize, 8);
    let inBatch: Uint8Array | null = null;
    let size = batchSize;
    for (;;) {
      const outBatch = new Uint8Array(cursorSize);
      const keys = new Uint8Array(keySize * size);
      const values = new Uint8Array(valueSize * size);
      let result;
      try {
        result = this.checked("lookup batch", () =>
          (andDelete ? mapLookupAndDeleteBatch : mapLookupBatch)({
            mapFd: this.fd,
            inBatch,
            outBatch,
            keys,
            values,
            count: size,
          }),
        );
      } catch (e) {
        // A hash bucket holds more elements than the batch: retry with room for it.
        if (e instanceof SyscallError && e.errno === ENOSPC && size < 1 << 20) {
          size *= 2;
          continue;
        }
        throw e;
      }
      for (let i = 0; i < result.count; i++) {
        yield [keys.slice(i * keySize, (i + 1) * keySize), values.slice(i * valueSize, (i + 1) * valueSize)];
      }
      if (result.done) return;
      inBatch = outBatch;
    }
  }

  /** Sets many keys at once (BPF_MAP_UPDATE_BATCH); returns how many were written. */
  updateBatch(keys: readonly Uint8Array[], values: readonly Uint8Array[], elemFlags = 0): number {
    if (keys.length !== values.length)
      throw new TsbpfError(`${this.what()}: ${keys.length} keys but ${values.length} values`);
    const k = concat(keys.map((key) => this.key(key)!));
    const v = concat(values.map((value) => this.value(value)));
    return this.checked("update batch", () =>
      mapUpdateBatch({ mapFd: this.fd, keys: k, values: v, count: keys.length, elemFlags }),
    ).count;
  }

  /** Deletes many keys at once (BPF_MAP_DELETE_BATCH); returns how many were deleted. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    const k = concat(keys.map((key) => this.key(key)!));
    return this.checked("delete batch", () => mapDeleteBatch({ mapFd: this.fd, keys: k, count: keys.length }))
      .count;
  }

  /** Makes the map read-only for userspace (programs may still write). */
  freeze(): void {
    this.checked("freeze", () => mapFreeze(this.fd));
  }

  /** Pins the map at `path`, inside a bpffs mount. */
  pin(path: string): void {
    this.checked(`pin ${path}`, () => objPin(this.fd, path));
  }

  /** Fresh information from the kernel (BPF_OBJ_GET_INFO_BY_FD). */
  refreshInfo(): MapInfo {
    return getMapInfo(this.fd);
  }

  /** Closes the fd; the map lives on while pinned or used by programs. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
