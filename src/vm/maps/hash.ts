/**
 * BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c).
 *
 * Each element's value gets its own region (per-CPU: one region holding a round_up(value_size, 8)
 * slot per CPU), so a value pointer is bounds-checked to its element. Updates of an existing
 * element write in place (pointers from earlier lookups see the new value; the kernel swaps in a
 * new element for non-per-CPU maps, so such pointers would keep the old one). Deleting an element
 * unmaps its region: a stale pointer faults, naming the "(deleted)" region (see BaseMap.retireRegion).
 *
 * Iteration order (keys, get_next_key, for_each) is insertion order, so runs are reproducible;
 * the kernel walks its hash buckets instead, an order that depends on the hash seed.
 *
 * LRU maps never fail with -E2BIG: inserting into a full map evicts the least recently used
 * element, where "used" means created, updated or looked up by a program (host lookups do not
 * count, like the kernel's *_sys lookups). The kernel's LRU is an approximation (active/inactive
 * lists, reference bits, per-CPU free lists with BPF_F_NO_COMMON_LRU) and may evict earlier or a
 * different element; this one is exact.
 */
import type { Memory, Region } from "../memory.js";
import { Errno, MAX_KEY_SIZE, MAX_VALUE_SIZE, MapFlags, roundUp8, UpdateFlags } from "./constants.js";
import { BaseMap, checkUpdateFlags, keyId, MapError, type VmMapOptions, type VmMapSpec } from "./map.js";

interface Element {
  readonly key: Uint8Array;
  readonly region: Region;
}

export interface HashKind {
  readonly perCpu: boolean;
  readonly lru: boolean;
}

export class HashMap extends BaseMap {
  override readonly perCpu: boolean;
  readonly lru: boolean;
  readonly stride: number;
  /** Elements in insertion order. */
  private readonly elements = new Map<string, Element>();
  /** LRU maps: elements from least to most recently used. */
  private readonly recency = new Map<string, Element>();

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions, kind: HashKind) {
    super(spec, memory, options);
    this.perCpu = kind.perCpu;
    this.lru = kind.lru;
    if (spec.keySize === 0 || spec.valueSize === 0 || spec.maxEntries === 0)
      this.createError(Errno.EINVAL, "key size, value size and max entries must be > 0");
    if (spec.keySize > MAX_KEY_SIZE)
      this.createError(Errno.E2BIG, `key size ${spec.keySize} > ${MAX_KEY_SIZE}`);
    if (spec.valueSize > MAX_VALUE_SIZE)
      this.createError(Errno.E2BIG, `value size ${spec.valueSize} too large`);
    if (this.lru && this.flags & MapFlags.NO_PREALLOC)
      this.createError(Errno.ENOTSUPP, "LRU maps cannot be BPF_F_NO_PREALLOC");
    if (!this.lru && this.flags & MapFlags.NO_COMMON_LRU)
      this.createError(Errno.EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps");
    this.stride = roundUp8(spec.valueSize);
  }

  get size(): number {
    return this.elements.size;
  }

  private touch(id: string, e: Element): void {
    if (!this.lru) return;
    this.recency.delete(id);
    this.recency.set(id, e);
  }

  private remove(id: string, e: Element): void {
    this.elements.delete(id);
    this.recency.delete(id);
    this.retireRegion(e.region);
  }

  /** Insert or overwrite; `fill` writes the value into the element's region bytes. */
  private upsert(key: Uint8Array, flags: number, fill: (bytes: Uint8Array, fresh: boolean) => void): number {
    const id = keyId(key);
    const old = this.elements.get(id);
    if (old) {
      if (flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
      fill(old.region.bytes, false);
      this.touch(id, old);
      return 0;
    }
    if (flags === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (this.elements.size >= this.maxEntries) {
      if (!this.lru) return -Errno.E2BIG;
      const victim = this.recency.entries().next().value;
      if (victim) this.remove(victim[0], victim[1]);
    }
    const bytes = new Uint8Array(this.stride * (this.perCpu ? this.cpus : 1));
    fill(bytes, true);
    const e: Element = { key: key.slice(), region: this.addOwnedRegion("value", bytes) };
    this.elements.set(id, e);
    this.touch(id, e);
    return 0;
  }

  private slotAddress(e: Element, cpu: number): bigint {
    return this.perCpu && cpu > 0 ? e.region.base + BigInt(cpu * this.stride) : e.region.base;
  }

  // ---- program face ----
  override lookupElem(key: Uint8Array, cpu: number): bigint {
    const id = keyId(key);
    const e = this.elements.get(id);
    if (!e) return 0n;
    this.touch(id, e);
    return this.slotAddress(e, cpu);
  }
  override lookupPercpuElem(key: Uint8Array, cpu: number): bigint {
    if (!this.perCpu || cpu >= this.cpus) return 0n;
    return this.lookupElem(key, cpu);
  }
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (checkUpdateFlags(flags) < 0) return -Errno.EINVAL;
    const v = value.subarray(0, this.valueSize);
    // A per-CPU element created by a program holds the value on its CPU, zeros on the others.
    return this.upsert(key, flags, (bytes) => bytes.set(v, this.perCpu ? cpu * this.stride : 0));
  }
  override deleteElem(key: Uint8Array): number {
    const id = keyId(key);
    const e = this.elements.get(id);
    if (!e) return -Errno.ENOENT;
    this.remove(id, e);
    return 0;
  }
  override forEachElem(cpu: number, fn: (key: bigint, value: bigint) => boolean): number {
    let n = 0;
    for (const e of this.elements.values()) {
      n++;
      if (fn(this.scratchKey(e.key), this.slotAddress(e, cpu))) break;
    }
    return n;
  }

  // ---- host face ----
  private copyValue(e: Element): Uint8Array {
    if (this.perCpu) return e.region.bytes.slice();
    return e.region.bytes.slice(0, this.valueSize);
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    const e = this.elements.get(keyId(key));
    return e && this.copyValue(e);
  }
  override lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) return super.lookupPerCpu(key);
    this.checkKey("lookup", key);
    const e = this.elements.get(keyId(key));
    if (!e) return undefined;
    return Array.from({ length: this.cpus }, (_, c) =>
      e.region.bytes.slice(c * this.stride, c * this.stride + this.valueSize),
    );
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    this.checkKey("update", key);
    const all = this.stride * this.cpus;
    this.checkValue("update", value, this.perCpu ? [this.valueSize, all] : [this.valueSize]);
    const r = this.upsert(key, flags, (bytes) => {
      if (!this.perCpu) bytes.set(value);
      else if (value.length === all) bytes.set(value);
      else for (let c = 0; c < this.cpus; c++) bytes.set(value, c * this.stride);
    });
    this.check("update", r);
  }
  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey("delete", key);
    return this.deleteElem(key) === 0;
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const it = this.elements.values();
    const id = key === undefined ? undefined : keyId(key);
    if (id === undefined || !this.elements.has(id)) return it.next().value?.key.slice();
    for (const e of it) {
      if (keyId(e.key) === id) {
        const next = it.next();
        return next.done ? undefined : next.value.key.slice();
      }
    }
    return undefined;
  }
  override *keys(): IterableIterator<Uint8Array> {
    for (const e of [...this.elements.values()]) yield e.key.slice();
  }
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const e of [...this.elements.values()]) yield [e.key.slice(), this.copyValue(e)];
  }
  override valueAddress(key: Uint8Array | number, offset = 0, cpu = 0): bigint | undefined {
    if (typeof key === "number")
      throw new MapError(this.name, "value address", Errno.EINVAL, "hash maps take a key, not an index");
    const e = this.elements.get(keyId(key));
    if (!e || cpu < 0 || cpu >= (this.perCpu ? this.cpus : 1)) return undefined;
    return this.slotAddress(e, cpu) + BigInt(offset);
  }
}
