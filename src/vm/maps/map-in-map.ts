/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS: values are maps. A program's lookup returns the
 * inner map's handle (what the kernel returns: the inner `struct bpf_map *`), which it passes to
 * bpf_map_lookup_elem & co. Programs cannot update these maps, as in the kernel.
 *
 * The host sets slots with `setInner(key, map)`; `update(key, value)` also works with a u32 value
 * naming a map of the same memory by id (VmMap.id), and `lookup` gives that id (the kernel's
 * syscall lookup gives the inner map's id too). An inner map must match the spec's `innerMap`
 * template like bpf_map_meta_equal: type, key size, value size and flags, and max entries for
 * array inner maps unless the template has BPF_F_INNER_MAP.
 */
import { MapType } from "../../object/types.js";
import type { Memory } from "../memory.js";
import { Errno, MapFlags, UpdateFlags } from "./constants.js";
import {
  BaseMap,
  checkUpdateFlags,
  keyId,
  MapError,
  memoryMapTable,
  readU32,
  u32Key,
  type VmMap,
  type VmMapOptions,
  type VmMapSpec,
} from "./map.js";

const ARRAY_LIKE: ReadonlySet<MapType> = new Set([MapType.ARRAY, MapType.PERCPU_ARRAY]);

export class MapInMap extends BaseMap {
  readonly innerSpec: VmMapSpec;
  /** Slots in insertion order (array_of_maps: key = index). */
  private readonly slots = new Map<string, { key: Uint8Array; map: VmMap }>();

  constructor(
    spec: VmMapSpec,
    memory: Memory,
    options: VmMapOptions,
    readonly isArray: boolean,
  ) {
    super(spec, memory, options);
    if (!spec.innerMap) this.createError(Errno.EBADF, "a map-in-map needs an inner map template (innerMap)");
    this.innerSpec = spec.innerMap;
    if (spec.valueSize !== 4 || spec.maxEntries === 0)
      this.createError(Errno.EINVAL, "value size must be 4 (a map fd) and max entries > 0");
    if (isArray ? spec.keySize !== 4 : spec.keySize === 0)
      this.createError(Errno.EINVAL, isArray ? "key size must be 4" : "key size must be > 0");
  }

  /** Why `map` cannot be an inner map of this one, or undefined when it can. */
  incompatibility(map: VmMap): string | undefined {
    const t = this.innerSpec;
    if (map.memory !== this.memory) return "it lives in another VM memory";
    const diffs: string[] = [];
    if (map.type !== t.type) diffs.push(`type ${map.typeName}`);
    if (map.keySize !== t.keySize) diffs.push(`key size ${map.keySize} != ${t.keySize}`);
    if (map.valueSize !== t.valueSize) diffs.push(`value size ${map.valueSize} != ${t.valueSize}`);
    if ((map.flags & ~MapFlags.INNER_MAP) !== ((t.flags ?? 0) & ~MapFlags.INNER_MAP))
      diffs.push(`flags 0x${map.flags.toString(16)} != 0x${(t.flags ?? 0).toString(16)}`);
    if (ARRAY_LIKE.has(t.type) && !((t.flags ?? 0) & MapFlags.INNER_MAP) && map.maxEntries !== t.maxEntries)
      diffs.push(`max entries ${map.maxEntries} != ${t.maxEntries}`);
    return diffs.length ? `it does not match the inner map template (${diffs.join(", ")})` : undefined;
  }

  private slotKey(op: string, key: Uint8Array | number): Uint8Array {
    const k = typeof key === "number" ? u32Key(key) : key;
    this.checkKey(op, k);
    if (this.isArray && readU32(k) >= this.maxEntries)
      throw new MapError(this.name, op, Errno.E2BIG, `index ${readU32(k)} >= max entries ${this.maxEntries}`);
    return k;
  }

  /** Put `map` in slot `key` (an index for array_of_maps). */
  setInner(key: Uint8Array | number, map: VmMap, flags = 0): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    const k = this.slotKey("update", key);
    const why = this.incompatibility(map);
    if (why)
      throw new MapError(
        this.name,
        "update",
        Errno.EINVAL,
        `map '${map.name}' cannot be an inner map: ${why}`,
      );
    const id = keyId(k);
    const exists = this.slots.has(id);
    if (flags === UpdateFlags.NOEXIST && (exists || this.isArray))
      throw new MapError(this.name, "update", Errno.EEXIST);
    if (flags === UpdateFlags.EXIST && !exists && !this.isArray)
      throw new MapError(this.name, "update", Errno.ENOENT);
    if (!exists && this.slots.size >= this.maxEntries) throw new MapError(this.name, "update", Errno.E2BIG);
    this.slots.set(id, { key: k.slice(), map });
  }
  /** The map in slot `key`. */
  inner(key: Uint8Array | number): VmMap | undefined {
    const k = typeof key === "number" ? u32Key(key) : key;
    return this.slots.get(keyId(k))?.map;
  }

  // ---- program face ----
  override lookupElem(key: Uint8Array): bigint {
    return this.slots.get(keyId(key))?.map.handle ?? 0n;
  }
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number): number {
    void [key, value];
    return checkUpdateFlags(flags) < 0 ? -Errno.EINVAL : -Errno.ENOTSUPP;
  }

  // ---- host face ----
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    const m = this.slots.get(keyId(key))?.map;
    return m && u32Key(m.id);
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkValue("update", value);
    const id = readU32(value);
    const map = memoryMapTable(this.memory).mapAt(BigInt(id) << 32n);
    if (!map) throw new MapError(this.name, "update", Errno.EBADF, `no map with id ${id} in this memory`);
    this.setInner(key, map, flags);
  }
  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    const k = this.slotKey("delete", key);
    return this.slots.delete(keyId(k));
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const keys = [...this.keys()];
    if (key === undefined) return keys[0];
    const id = keyId(key);
    const at = keys.findIndex((k) => keyId(k) === id);
    return at < 0 ? keys[0] : keys[at + 1];
  }
  /** Occupied slots (array_of_maps: by index; hash_of_maps: insertion order). */
  override *keys(): IterableIterator<Uint8Array> {
    const all = [...this.slots.values()].map((s) => s.key.slice());
    if (this.isArray) all.sort((x, y) => readU32(x) - readU32(y));
    yield* all;
  }
}
