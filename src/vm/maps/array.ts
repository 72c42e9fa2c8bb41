/**
 * BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c).
 *
 * All values live in one region, each in a slot of round_up(value_size, 8) bytes, so the address
 * of element i is `base + i * stride` (per-CPU: `base + (cpu * max_entries + i) * stride`).
 * Elements always exist (zero-filled at creation) and cannot be deleted. Global data sections
 * (.data, .rodata, .bss, .kconfig) are arrays of one element; BPF_F_RDONLY_PROG maps (.rodata)
 * are read-only regions for programs.
 */
import { Errno, MAX_VALUE_SIZE, roundUp8, UpdateFlags } from "./constants.js";
import {
  BaseMap,
  checkUpdateFlags,
  MapError,
  readU32,
  u32Key,
  type VmMapOptions,
  type VmMapSpec,
} from "./map.js";
import type { Memory, Region } from "../memory.js";

/** The kernel's PCPU_MIN_UNIT_SIZE: the largest per-CPU value. */
const MAX_PERCPU_VALUE = 32768;

export class ArrayMap extends BaseMap {
  override readonly perCpu: boolean;
  /** Bytes between consecutive values: round_up(value_size, 8). */
  readonly stride: number;
  readonly region: Region;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions, perCpu: boolean) {
    super(spec, memory, options);
    this.perCpu = perCpu;
    if (spec.keySize !== 4) this.createError(Errno.EINVAL, `key size must be 4 (got ${spec.keySize})`);
    if (spec.valueSize === 0 || spec.maxEntries === 0)
      this.createError(Errno.EINVAL, "value size and max entries must be > 0");
    if (spec.valueSize > (perCpu ? MAX_PERCPU_VALUE : MAX_VALUE_SIZE))
      this.createError(Errno.E2BIG, `value size ${spec.valueSize} too large`);
    this.stride = roundUp8(spec.valueSize);
    const total = this.stride * spec.maxEntries * (perCpu ? this.cpus : 1);
    if (total > 0x7fffffff)
      this.createError(Errno.ENOMEM, `${total} bytes of values is more than the VM maps in one region`);
    this.region = this.addOwnedRegion("values", new Uint8Array(total));
    if (spec.contents) {
      if (spec.contents.length > spec.valueSize)
        this.createError(
          Errno.EINVAL,
          `initial contents of ${spec.contents.length} bytes exceed the value size`,
        );
      this.region.bytes.set(spec.contents);
    }
  }

  /** The whole value area, shared with programs (what mmap of a BPF_F_MMAPABLE array gives). */
  get data(): Uint8Array {
    return this.region.bytes;
  }

  private offsetOf(index: number, cpu: number): number {
    return (cpu * this.maxEntries + index) * this.stride;
  }
  private slot(index: number, cpu: number): Uint8Array {
    const o = this.offsetOf(index, cpu);
    return this.region.bytes.subarray(o, o + this.valueSize);
  }

  // ---- program face ----
  override lookupElem(key: Uint8Array, cpu: number): bigint {
    const i = readU32(key);
    if (i >= this.maxEntries) return 0n;
    const o = this.offsetOf(i, this.perCpu ? cpu : 0);
    return o === 0 ? this.region.base : this.region.base + BigInt(o); // one BigInt less for [0]
  }
  override lookupPercpuElem(key: Uint8Array, cpu: number): bigint {
    if (!this.perCpu || cpu >= this.cpus) return 0n;
    return this.lookupElem(key, cpu);
  }
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (checkUpdateFlags(flags) < 0) return -Errno.EINVAL;
    if (this.readOnlyForPrograms) return -Errno.EPERM;
    const i = readU32(key);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    this.slot(i, this.perCpu ? cpu : 0).set(value.subarray(0, this.valueSize));
    return 0;
  }
  override deleteElem(): number {
    return -Errno.EINVAL;
  }
  override forEachElem(cpu: number, fn: (key: bigint, value: bigint) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) {
      n++;
      if (fn(this.scratchKey(u32Key(i)), this.region.base + BigInt(this.offsetOf(i, this.perCpu ? cpu : 0))))
        break;
    }
    return n;
  }

  // ---- host face ----
  private index(op: string, key: Uint8Array): number {
    this.checkKey(op, key);
    return readU32(key);
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    const i = this.index("lookup", key);
    if (i >= this.maxEntries) return undefined;
    if (!this.perCpu) return this.slot(i, 0).slice();
    const out = new Uint8Array(this.stride * this.cpus);
    for (let c = 0; c < this.cpus; c++) out.set(this.slot(i, c), c * this.stride);
    return out;
  }
  override lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    if (!this.perCpu) return super.lookupPerCpu(key);
    const i = this.index("lookup", key);
    if (i >= this.maxEntries) return undefined;
    return Array.from({ length: this.cpus }, (_, c) => this.slot(i, c).slice());
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    const i = this.index("update", key);
    if (i >= this.maxEntries)
      throw new MapError(this.name, "update", Errno.E2BIG, `index ${i} >= max entries ${this.maxEntries}`);
    if (flags === UpdateFlags.NOEXIST)
      throw new MapError(this.name, "update", Errno.EEXIST, "array elements always exist");
    if (!this.perCpu) {
      this.checkValue("update", value);
      this.slot(i, 0).set(value);
      return;
    }
    this.checkValue("update", value, [this.valueSize, this.stride * this.cpus]);
    for (let c = 0; c < this.cpus; c++)
      this.slot(i, c).set(
        value.length === this.valueSize
          ? value
          : value.subarray(c * this.stride, c * this.stride + this.valueSize),
      );
  }
  override delete(key: Uint8Array): boolean {
    this.index("delete", key);
    throw new MapError(this.name, "delete", Errno.EINVAL, "array elements cannot be deleted");
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? this.maxEntries : this.index("get next key", key);
    if (i >= this.maxEntries) return u32Key(0);
    return i + 1 < this.maxEntries ? u32Key(i + 1) : undefined;
  }
  override *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) yield u32Key(i);
  }
  override valueAddress(key: Uint8Array | number, offset = 0, cpu = 0): bigint | undefined {
    const i = typeof key === "number" ? key : readU32(key);
    if (i < 0 || i >= this.maxEntries || cpu < 0 || cpu >= (this.perCpu ? this.cpus : 1)) return undefined;
    return this.region.base + BigInt(this.offsetOf(i, cpu) + offset);
  }
}
