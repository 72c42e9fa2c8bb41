/**
 * BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c): push adds a value, peek tests it
 * (0 = maybe present, -ENOENT = surely absent). The bit array is sized like the kernel's
 * (max_entries * nr_hash_funcs * 7 / 5 bits, rounded up to a power of two, at least 64) and
 * bit i of hash function k is jhash2/jhash(value, seed + k) & mask, so for the same seed the
 * VM's filter has the kernel's bits and false positives. The kernel draws a random seed unless
 * BPF_F_ZERO_SEED; the VM uses options.hashSeed (default 0) so runs are reproducible.
 */
import type { Memory } from "../memory.js";
import { Errno, MapFlags, MAX_VALUE_SIZE, UpdateFlags } from "./constants.js";
import { jhash, jhash2 } from "./jhash.js";
import { BaseMap, MapError, type VmMapOptions, type VmMapSpec } from "./map.js";

/** nr_hash_funcs when map_extra is 0. */
export const DEFAULT_BLOOM_HASH_FUNCS = 5;

export class BloomFilterMap extends BaseMap {
  readonly hashFuncs: number;
  readonly seed: number;
  /** Number of bits - 1. */
  readonly mask: number;
  readonly bits: Uint8Array;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options);
    const extra = spec.mapExtra ?? 0n;
    if (spec.keySize !== 0 || spec.valueSize === 0 || spec.maxEntries === 0)
      this.createError(Errno.EINVAL, "key size must be 0, value size and max entries > 0");
    if (spec.valueSize > MAX_VALUE_SIZE)
      this.createError(Errno.E2BIG, `value size ${spec.valueSize} too large`);
    if ((extra & ~0xfn) !== 0n) this.createError(Errno.EINVAL, `map_extra ${extra}: the hash count is 1..15`);
    this.hashFuncs = Number(extra) || DEFAULT_BLOOM_HASH_FUNCS;
    let nrBits = spec.maxEntries * this.hashFuncs;
    nrBits = Math.floor(nrBits / 5) * 7;
    if (nrBits > 2 ** 31) {
      this.mask = 0xffffffff;
    } else {
      nrBits = nrBits <= 64 ? 64 : 2 ** Math.ceil(Math.log2(nrBits));
      this.mask = nrBits - 1;
    }
    const bytes = Math.ceil((this.mask + 1) / 8);
    if (bytes > 0x7fffffff)
      this.createError(Errno.ENOMEM, `a ${bytes}-byte bit array is too large for the VM`);
    this.bits = new Uint8Array(bytes);
    this.seed = this.flags & MapFlags.ZERO_SEED ? 0 : (options.hashSeed ?? 0) >>> 0;
  }

  /** Bit index of hash function `k` for `value`. */
  hash(value: Uint8Array, k: number): number {
    const initval = (this.seed + k) >>> 0;
    const h = value.length % 4 === 0 ? jhash2(value, initval) : jhash(value, initval);
    return (h & this.mask) >>> 0;
  }

  override pushElem(value: Uint8Array, flags: number): number {
    if (flags !== UpdateFlags.ANY) return -Errno.EINVAL;
    const v = value.subarray(0, this.valueSize);
    for (let k = 0; k < this.hashFuncs; k++) {
      const bit = this.hash(v, k);
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
    }
    return 0;
  }
  override peekElem(value: Uint8Array): number {
    const v = value.subarray(0, this.valueSize);
    for (let k = 0; k < this.hashFuncs; k++) {
      const bit = this.hash(v, k);
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return -Errno.ENOENT;
    }
    return 0;
  }
  override popElem(out: Uint8Array): number {
    void out;
    return -Errno.EOPNOTSUPP;
  }
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number): number {
    void key;
    return this.pushElem(value, flags);
  }

  override push(value: Uint8Array, flags = 0): void {
    this.checkWritable("push");
    this.checkValue("push", value);
    this.check("push", this.pushElem(value, flags));
  }
  override contains(value: Uint8Array): boolean {
    this.checkValue("contains", value);
    return this.peekElem(value) === 0;
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkKey("update", key);
    this.push(value, flags);
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    void key;
    throw new MapError(this.name, "lookup", Errno.EINVAL, "a bloom filter has no keys: use contains(value)");
  }
  override nextKey(): Uint8Array | undefined {
    throw new MapError(this.name, "get next key", Errno.EINVAL, "a bloom filter has no keys");
  }
  override *keys(): IterableIterator<Uint8Array> {}
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
