/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c), byte for byte: a power-of-2, page-multiple data
 * area of records, each an 8-byte header { u32 len | BUSY(1<<31) | DISCARD(1<<30); u32 pg_off }
 * followed by the sample, padded to 8 bytes. Producer and consumer positions grow without
 * wrapping; a record sits at `pos & mask`.
 *
 * The kernel maps the data pages twice in a row so a record crossing the end is contiguous; the
 * VM's data region is likewise twice the ring size: a reserved sample that crosses the end is
 * written by the program into the second half and copied to the start of the ring when it is
 * submitted. Reserving fails (NULL, or -EAGAIN for output) when the new record would put the
 * producer more than size - 1 bytes ahead of the consumer or of the oldest unsubmitted record.
 *
 * The host consumes with `drain()` / `consume(fn)` (skipping discarded records, stopping at a
 * busy one), like libbpf's ring_buffer__consume.
 */
import { TsbpfError } from "../../errors.js";
import type { Memory, Region } from "../memory.js";
import { Errno, MapFlags, PAGE_SIZE, RingbufFlag, RingbufQuery } from "./constants.js";
import { BaseMap, MapError, type VmMapOptions, type VmMapSpec } from "./map.js";

export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SZ = 8;
/** RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4. */
const MAX_RECORD = 0x3fffffff;
/** Pages of struct bpf_ringbuf before its data (the header page, consumer_pos, producer_pos). */
const DATA_PAGE_OFFSET = 3;

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;

export class RingbufMap extends BaseMap {
  readonly size: number;
  readonly mask: number;
  /** Data area, twice the ring size (see the module comment). */
  readonly region: Region;
  private readonly view: DataView;
  consumerPos = 0;
  producerPos = 0;
  private pendingPos = 0;
  /** Wakeups the kernel would have sent to a waiting consumer. */
  wakeups = 0;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options);
    const n = spec.maxEntries;
    if (this.flags & ~MapFlags.NUMA_NODE)
      this.createError(Errno.EINVAL, `flags 0x${this.flags.toString(16)}`);
    if (spec.keySize !== 0 || spec.valueSize !== 0)
      this.createError(Errno.EINVAL, "key size and value size must be 0");
    if (n === 0 || (n & (n - 1)) !== 0 || n % PAGE_SIZE !== 0)
      this.createError(
        Errno.EINVAL,
        `max entries (the ring size) ${n} must be a power of 2 and a multiple of ${PAGE_SIZE}`,
      );
    if (n > 0x40000000) this.createError(Errno.E2BIG, `ring size ${n} too large for the VM`);
    this.size = n;
    this.mask = n - 1;
    this.region = this.addOwnedRegion("ring", new Uint8Array(2 * n), true);
    this.view = new DataView(this.region.bytes.buffer);
  }

  private header(pos: number): number {
    return this.view.getUint32(pos & this.mask, true);
  }

  /** __bpf_ringbuf_reserve: the sample's address, or 0n when there is no room. */
  reserve(size: number): bigint {
    if (size > MAX_RECORD) return 0n;
    const len = roundUp8(size + RINGBUF_HDR_SZ);
    if (len > this.size) return 0n;
    let pend = this.pendingPos;
    while (pend < this.producerPos) {
      const h = this.header(pend);
      if (h & RINGBUF_BUSY_BIT) break;
      pend += roundUp8((h & ~RINGBUF_DISCARD_BIT) + RINGBUF_HDR_SZ);
    }
    this.pendingPos = pend;
    const next = this.producerPos + len;
    if (next - this.consumerPos > this.mask || next - pend > this.mask) return 0n;
    const at = this.producerPos & this.mask;
    this.view.setUint32(at, (size | RINGBUF_BUSY_BIT) >>> 0, true);
    this.view.setUint32(at + 4, DATA_PAGE_OFFSET + Math.floor(at / PAGE_SIZE), true);
    this.producerPos = next;
    return this.region.base + BigInt(at + RINGBUF_HDR_SZ);
  }

  /** bpf_ringbuf_commit: submit or discard the sample at `address` (from `reserve`). */
  commit(address: bigint, flags: number, discard: boolean): void {
    const at = Number(address - this.region.base) - RINGBUF_HDR_SZ;
    if (!(at >= 0 && at < this.size && at % 8 === 0))
      throw new TsbpfError(
        `0x${address.toString(16)} is not a sample reserved in ring buffer '${this.name}'`,
      );
    const h = this.view.getUint32(at, true);
    if (!(h & RINGBUF_BUSY_BIT))
      throw new TsbpfError(
        `ring buffer '${this.name}': the sample at 0x${address.toString(16)} was already submitted or discarded`,
      );
    const size = h & ~RINGBUF_BUSY_BIT;
    const end = at + RINGBUF_HDR_SZ + size;
    const bytes = this.region.bytes;
    // The part written past the ring's end (the kernel's second mapping) belongs at its start.
    if (!discard && end > this.size) bytes.copyWithin(0, this.size, end);
    this.view.setUint32(at, (discard ? size | RINGBUF_DISCARD_BIT : size) >>> 0, true);
    const consumerAt = this.consumerPos & this.mask;
    if (flags & RingbufFlag.FORCE_WAKEUP || (consumerAt === at && !(flags & RingbufFlag.NO_WAKEUP)))
      this.wakeups++;
  }

  /** bpf_ringbuf_output: 0, -EINVAL for bad flags, -EAGAIN when there is no room. */
  output(data: Uint8Array, flags: number): number {
    if (flags & ~(RingbufFlag.NO_WAKEUP | RingbufFlag.FORCE_WAKEUP)) return -Errno.EINVAL;
    const address = this.reserve(data.length);
    if (address === 0n) return -Errno.EAGAIN;
    const at = Number(address - this.region.base);
    this.region.bytes.set(data, at);
    this.commit(address, flags, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flag: number): bigint {
    const table: Record<number, number> = {
      [RingbufQuery.AVAIL_DATA]: this.producerPos - this.consumerPos,
      [RingbufQuery.RING_SIZE]: this.size,
      [RingbufQuery.CONS_POS]: this.consumerPos,
      [RingbufQuery.PROD_POS]: this.producerPos,
    };
    return BigInt(table[flag] ?? 0);
  }

  /** Bytes [pos, pos + length) of the ring, wrapping at its end. */
  private readRing(pos: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const at = pos & this.mask;
    const first = Math.min(length, this.size - at);
    out.set(this.region.bytes.subarray(at, at + first));
    if (first < length) out.set(this.region.bytes.subarray(0, length - first), first);
    return out;
  }

  /**
   * Consume the submitted records in order, calling `fn` with each sample (a copy); stops at a
   * record still reserved, or when `fn` returns false. Returns the number of samples given.
   */
  consume(fn: (sample: Uint8Array) => boolean | void): number {
    let n = 0;
    while (this.consumerPos < this.producerPos) {
      const h = this.header(this.consumerPos);
      if (h & RINGBUF_BUSY_BIT) break;
      const size = h & ~RINGBUF_DISCARD_BIT;
      const pos = this.consumerPos;
      this.consumerPos += roundUp8(size + RINGBUF_HDR_SZ);
      if (h & RINGBUF_DISCARD_BIT) continue;
      n++;
      if (fn(this.readRing(pos + RINGBUF_HDR_SZ, size)) === false) break;
    }
    return n;
  }

  /** Consume every submitted record; returns the samples. */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.consume((s) => void out.push(s));
    return out;
  }

  /** The raw ring (the kernel's data pages, as an mmap of the map shows them). */
  get ring(): Uint8Array {
    return this.region.bytes.subarray(0, this.size);
  }

  override lookup(): Uint8Array | undefined {
    throw new MapError(this.name, "lookup", Errno.EINVAL, "ring buffers have no elements: use drain()");
  }
  override nextKey(): Uint8Array | undefined {
    throw new MapError(this.name, "get next key", Errno.EINVAL, "ring buffers have no keys");
  }
  override *keys(): IterableIterator<Uint8Array> {}
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
