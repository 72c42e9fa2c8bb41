/**
 * What the maps whose slots hold kernel objects rather than data share (devmap, devmap_hash,
 * cpumap, xskmap, sockmap, sockhash): an array (key = u32 index < max_entries) or a hash of
 * entries, each shown to programs as a read-only value region (bpf_map_lookup_elem gives its
 * address), to the host as `lookup` bytes. Each kind says how host bytes become an entry (`parse`)
 * and how an entry reads back (`bytesOf`); bpf_redirect_map finds entries with `redirectTarget`.
 */
import type { Memory, Region } from "../memory.js";
import { Errno, MAX_KEY_SIZE, UpdateFlags } from "./constants.js";
import { BaseMap, keyId, MapError, readU32, u32Key, type VmMapOptions, type VmMapSpec } from "./map.js";

interface Slot<T> {
  readonly key: Uint8Array;
  entry: T;
  readonly region: Region;
}

/** Where bpf_redirect_map sends a packet: the device, CPU or socket of the map's entry. */
export interface RedirectEntry {
  readonly ifindex?: number;
  readonly cpu?: number;
  readonly socket?: string;
}

/** A map bpf_redirect_map accepts (devmap, devmap_hash, cpumap, xskmap). */
export interface RedirectMap {
  /** The entry at `index` (the helper's u32 key), undefined when the slot is empty. */
  redirectTarget(index: number): RedirectEntry | undefined;
  /** bpf_redirect_map flags beyond the action bits the map type takes (BPF_F_BROADCAST…). */
  readonly redirectFlags: number;
}

/** Whether `map` is one bpf_redirect_map takes. */
export const isRedirectMap = (map: unknown): map is RedirectMap =>
  typeof (map as Partial<RedirectMap>).redirectTarget === "function";

export abstract class SlotMap<T> extends BaseMap {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    spec: VmMapSpec,
    memory: Memory,
    options: VmMapOptions,
    /** Keyed by any bytes (devmap_hash, sockhash) rather than an index below max_entries. */
    readonly hashed: boolean,
    valueSizes: readonly number[],
  ) {
    super(spec, memory, options);
    if (hashed ? spec.keySize === 0 || spec.keySize > MAX_KEY_SIZE : spec.keySize !== 4)
      this.createError(Errno.EINVAL, `key size ${spec.keySize} (${hashed ? "1.." + MAX_KEY_SIZE : "4"})`);
    if (!valueSizes.includes(spec.valueSize))
      this.createError(Errno.EINVAL, `value size ${spec.valueSize} (${valueSizes.join(" or ")})`);
    if (spec.maxEntries === 0) this.createError(Errno.EINVAL, "max entries must be > 0");
  }

  /** The entry host bytes stand for; undefined empties the slot. Throws MapError. */
  protected abstract parse(op: string, key: Uint8Array, value: Uint8Array): T | undefined;
  /** The value bytes of an entry (value_size bytes), as lookups show it. */
  protected abstract bytesOf(entry: T): Uint8Array;

  /** The entry of `key` (bytes or an array index). */
  entry(key: Uint8Array | number): T | undefined {
    return this.slots.get(keyId(typeof key === "number" ? u32Key(key) : key))?.entry;
  }
  /** Number of entries. */
  get size(): number {
    return this.slots.size;
  }

  /** Set (or, with undefined, empty) the slot of `key`, with BPF_MAP_UPDATE_ELEM's flags and errors. */
  protected put(op: string, key: Uint8Array, entry: T | undefined, flags: number): void {
    const id = keyId(key);
    const old = this.slots.get(id);
    if (!this.hashed) {
      const i = readU32(key);
      if (i >= this.maxEntries)
        throw new MapError(this.name, op, Errno.E2BIG, `index ${i} >= max entries ${this.maxEntries}`);
      if (flags === UpdateFlags.NOEXIST)
        throw new MapError(this.name, op, Errno.EEXIST, "array slots always exist");
    } else {
      if (flags === UpdateFlags.NOEXIST && old) throw new MapError(this.name, op, Errno.EEXIST);
      if (flags === UpdateFlags.EXIST && !old) throw new MapError(this.name, op, Errno.ENOENT);
      if (!old && entry !== undefined && this.slots.size >= this.maxEntries)
        throw new MapError(this.name, op, Errno.E2BIG);
    }
    if (entry === undefined) {
      if (old) this.remove(id, old);
      return;
    }
    if (old) {
      old.entry = entry;
      old.region.bytes.set(this.bytesOf(entry));
      return;
    }
    const region = this.addOwnedRegion("value", this.bytesOf(entry).slice(), false);
    this.slots.set(id, { key: key.slice(), entry, region });
  }
  private remove(id: string, slot: Slot<T>): void {
    this.slots.delete(id);
    this.retireRegion(slot.region);
  }
  /** The key of an index or key argument, checked. */
  protected keyOf(op: string, key: Uint8Array | number): Uint8Array {
    const k = typeof key === "number" ? u32Key(key) : key;
    this.checkKey(op, k);
    return k;
  }

  // ---- program face: read-only values ----
  override lookupElem(key: Uint8Array): bigint {
    return this.slots.get(keyId(key))?.region.base ?? 0n;
  }

  // ---- host face ----
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    return this.slots.get(keyId(key))?.region.bytes.slice();
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    this.checkKey("update", key);
    this.checkValue("update", value);
    this.put("update", key, this.parse("update", key, value), flags);
  }
  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey("delete", key);
    if (!this.hashed && readU32(key) >= this.maxEntries)
      throw new MapError(this.name, "delete", Errno.EINVAL, `index ${readU32(key)} >= max entries`);
    const id = keyId(key);
    const old = this.slots.get(id);
    if (old) this.remove(id, old);
    return old !== undefined;
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (!this.hashed) {
      // like the kernel's array maps: every index, whether its slot holds something or not
      if (key === undefined || readU32(key) >= this.maxEntries) return u32Key(0);
      const i = readU32(key) + 1;
      return i < this.maxEntries ? u32Key(i) : undefined;
    }
    const ids = [...this.slots.keys()];
    const at = key === undefined ? -1 : ids.indexOf(keyId(key));
    const next = this.slots.get(ids[at + 1] ?? "");
    return next && ids[at + 1] !== undefined ? next.key.slice() : undefined;
  }
  override *keys(): IterableIterator<Uint8Array> {
    for (const s of [...this.slots.values()]) yield s.key.slice();
  }
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const s of [...this.slots.values()]) yield [s.key.slice(), s.region.bytes.slice()];
  }
}
