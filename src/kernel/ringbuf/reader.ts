import { endianness } from "node:os";
import { TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import type { KernelMap } from "../map.js";
import { pageSize } from "../perf/event.js";
import {
  EPOLL_EVENT_SIZE,
  MapType,
  closeFd,
  getMapInfo,
  syscalls,
  type SyscallInterface,
} from "../sys/index.js";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0x80000;
const EINTR = 4;

/** Record header bits (BPF_RINGBUF_*_BIT): still being written, or discarded by the program. */
export const RINGBUF_BUSY_BIT = 1 << 31;
export const RINGBUF_DISCARD_BIT = 1 << 30;
/** BPF_RINGBUF_HDR_SZ: u32 length (with the bits) and u32 page offset. */
export const RINGBUF_HEADER_SIZE = 8;

/** Called with each record; the bytes are a view into the ring, valid only during the call. */
export type RingbufCallback = (data: Uint8Array) => void;

/**
 * Called with each record in place, allocating nothing: the record is the `length` bytes at
 * `offset` of `view` (the reader's data area, mapped twice so a record never wraps), valid only
 * during the call.
 */
export type RingbufRawCallback = (view: DataView, offset: number, length: number) => void;

const LENGTH_MASK = ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
/** Index of the low 32-bit half of the u64 positions in a Uint32Array over them. */
const LOW = endianness() === "LE" ? 0 : 1;

/**
 * Reads a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF, 5.8) from userspace, as libbpf's
 * ring_buffer does: the consumer page is mapped read-write, the producer page and the data
 * pages (mapped twice by the kernel, so records never wrap) read-only. Records come in the
 * order they were committed; discarded ones are skipped. Wake-ups come through epoll on the
 * map fd, waited for on a worker thread so Node's event loop keeps running.
 */
export class RingBufferReader {
  readonly #sys: SyscallInterface;
  readonly #mapFd: number;
  /** Size of the data area (max_entries, a power of 2). */
  readonly size: number;
  readonly #page: number;
  #consumerAddr: bigint;
  #producerAddr: bigint;
  #epfd: number;
  /** consumer_pos as 64 bits (for the rare store that carries into the high half) and 2 x 32. */
  readonly #consumer: BigInt64Array;
  readonly #consumer32: Uint32Array;
  /** producer_pos as 64 bits and 2 x 32. */
  readonly #producer: BigInt64Array;
  readonly #producer32: Uint32Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  /** The mapping of the producer and data pages, and where the data starts in it. */
  readonly #buffer: ArrayBuffer;
  readonly #dataOffset: number;
  readonly #headers: Int32Array;
  readonly #mask: number;
  /** Uncommitted bytes after which a batch stores consumer_pos, giving the producers room. */
  readonly #commitBytes: number;
  /** Bytes past consumer_pos of the record handed out by next() (committed on the next call). */
  #pending = 0;
  #waiting: Promise<number> | undefined;
  #closed = false;

  private constructor(sys: SyscallInterface, mapFd: number, size: number) {
    this.#sys = sys;
    this.#mapFd = mapFd;
    this.size = size;
    this.#page = pageSize();
    const page = this.#page;
    this.#consumerAddr = this.#map(page, PROT_READ | PROT_WRITE, 0, "consumer page");
    try {
      this.#producerAddr = this.#map(page + 2 * size, PROT_READ, page, "producer and data pages");
    } catch (e) {
      sys.munmap(this.#consumerAddr, page);
      throw e;
    }
    this.#epfd = sys.epollCreate1(EPOLL_CLOEXEC);
    const fail = (call: string, errno: number): never => {
      this.#unmap();
      if (this.#epfd >= 0) sys.close(this.#epfd);
      throw new SyscallError(call, errno, { context: "ring buffer reader" });
    };
    if (this.#epfd < 0) fail("epoll_create1", -this.#epfd);
    const r = sys.epollCtl(this.#epfd, EPOLL_CTL_ADD, mapFd, EPOLLIN, 0n);
    if (r < 0) fail("epoll_ctl", -r);
    const consumer = sys.view(this.#consumerAddr, 8);
    this.#consumer = new BigInt64Array(consumer);
    this.#consumer32 = new Uint32Array(consumer);
    const producer = sys.view(this.#producerAddr, page + 2 * size);
    this.#producer = new BigInt64Array(producer, 0, 1);
    this.#producer32 = new Uint32Array(producer, 0, 2);
    this.#buffer = producer;
    this.#dataOffset = page;
    this.#data = new Uint8Array(producer, page, 2 * size);
    this.#view = new DataView(producer, page, 2 * size);
    this.#headers = new Int32Array(producer, page, (2 * size) / 4);
    this.#mask = size - 1;
    this.#commitBytes = Math.min(size >>> 2, 1 << 16);
  }

  /** Opens a reader on a ring buffer map (a KernelMap, or a map fd which stays the caller's). */
  static open(map: KernelMap | number): RingBufferReader {
    const fd = typeof map === "number" ? map : map.fd;
    const info = getMapInfo(fd);
    if (info.type !== MapType.RINGBUF)
      throw new TsbpfError(`map '${info.name}' (id ${info.id}) is a ${info.typeName} map, not a ringbuf`);
    return new RingBufferReader(syscalls(), fd, info.maxEntries);
  }

  #map(length: number, prot: number, offset: number, what: string): bigint {
    const addr = this.#sys.mmap(length, prot, MAP_SHARED, this.#mapFd, offset);
    if (addr < 0n) throw new SyscallError("mmap", Number(-addr), { context: `ring buffer ${what}` });
    return addr;
  }

  #unmap(): void {
    if (this.#consumerAddr) this.#sys.munmap(this.#consumerAddr, this.#page);
    if (this.#producerAddr) this.#sys.munmap(this.#producerAddr, this.#page + 2 * this.size);
    this.#consumerAddr = 0n;
    this.#producerAddr = 0n;
  }

  #check(): void {
    if (this.#closed) throw new TsbpfError("ring buffer reader is closed");
  }

  /** Bytes committed by producers and not consumed yet (headers and discarded records included). */
  get pending(): number {
    this.#check();
    // Positions are u64 but never more than the ring's size (< 4 GiB) apart: 32 bits suffice.
    return (Atomics.load(this.#producer32, LOW) - Atomics.load(this.#consumer32, LOW)) >>> 0;
  }

  /**
   * Stores consumer_pos = `low` (its low half) + `bytes` and returns the new low half. The store
   * lets the kernel reuse the space. Only the low 32 bits change, except when they carry (every
   * 4 GiB consumed): then one 64-bit store, so the kernel never sees a torn position.
   */
  #store(low: number, bytes: number): number {
    const next = low + bytes;
    if (next < 2 ** 32) {
      Atomics.store(this.#consumer32, LOW, next);
      return next;
    }
    Atomics.store(this.#consumer, 0, Atomics.load(this.#consumer, 0) + BigInt(bytes));
    return next - 2 ** 32;
  }

  #commitPending(): void {
    if (this.#pending) {
      this.#store(this.#consumer32[LOW]!, this.#pending);
      this.#pending = 0;
    }
  }

  /**
   * The next record as a view into the ring (zero copy), valid until the next call of next(),
   * consume(), read() or close(); undefined when no committed record is waiting.
   */
  next(): Uint8Array | undefined {
    this.#check();
    this.#commitPending();
    let cons = this.#consumer32[LOW]!;
    for (;;) {
      if ((Atomics.load(this.#producer32, LOW) - cons) >>> 0 === 0) return undefined;
      const off = cons & this.#mask;
      // The header is read with acquire semantics: the record is complete once BUSY is clear.
      const header = Atomics.load(this.#headers, off >>> 2);
      if (header & RINGBUF_BUSY_BIT) return undefined;
      const len = header & LENGTH_MASK;
      const step = (len + RINGBUF_HEADER_SIZE + 7) & ~7;
      if (header & RINGBUF_DISCARD_BIT) {
        cons = this.#store(cons, step);
        continue;
      }
      this.#pending = step;
      return this.#data.subarray(off + RINGBUF_HEADER_SIZE, off + RINGBUF_HEADER_SIZE + len);
    }
  }

  /** The next record, copied (undefined when none is waiting). */
  read(): Uint8Array | undefined {
    const view = this.next();
    const copy = view?.slice();
    this.#commitPending();
    return copy;
  }

  /**
   * Hands every waiting record (at most `max`) to `callback` as a view valid during the call,
   * and advances past it; returns how many records were consumed. Does not wait.
   */
  consume(callback: RingbufCallback, max = Infinity): number {
    return this.#process(max, callback, undefined);
  }

  /**
   * consume() without allocating: each record is passed as (view, offset, length) into the
   * ring's data area, valid during the call. The fastest way to read records.
   */
  consumeRaw(callback: RingbufRawCallback, max = Infinity): number {
    return this.#process(max, undefined, callback);
  }

  /**
   * The consume loop, like libbpf's ringbuf_process_ring but storing consumer_pos once per
   * batch rather than per record: producer_pos is read once per batch, each header with acquire
   * semantics (a BUSY record ends the batch), discarded records are skipped, records are 8-byte
   * aligned and never wrap (the data pages are mapped twice). consumer_pos is stored when the
   * batch ends, every #commitBytes, and when a callback throws (past its record, as libbpf).
   * Positions are handled as their low 32 bits: no BigInt in the loop.
   */
  #process(max: number, views: RingbufCallback | undefined, raw: RingbufRawCallback | undefined): number {
    this.#check();
    this.#commitPending();
    const headers = this.#headers;
    const mask = this.#mask;
    let cons = this.#consumer32[LOW]!;
    /** Bytes consumed since consumer_pos was last stored. */
    let done = 0;
    let n = 0;
    try {
      batches: while (n < max) {
        let avail = (Atomics.load(this.#producer32, LOW) - cons - done) >>> 0;
        if (avail === 0) break;
        while (avail > 0) {
          const off = (cons + done) & mask;
          const header = Atomics.load(headers, off >>> 2);
          if (header & RINGBUF_BUSY_BIT) break batches;
          const len = header & LENGTH_MASK;
          const step = (len + RINGBUF_HEADER_SIZE + 7) & ~7;
          done += step;
          avail -= step;
          if ((header & RINGBUF_DISCARD_BIT) === 0) {
            const start = off + RINGBUF_HEADER_SIZE;
            if (raw) raw(this.#view, start, len);
            else views!(new Uint8Array(this.#buffer, this.#dataOffset + start, len));
            if (++n >= max) break batches;
          }
          if (done >= this.#commitBytes) {
            cons = this.#store(cons, done);
            done = 0;
          }
        }
      }
    } finally {
      if (done) this.#store(cons, done);
    }
    return n;
  }

  /**
   * Consumes waiting records; when there are none, waits up to `timeoutMs` (-1: forever) for
   * the kernel's wake-up on a worker thread, then consumes. Returns the number of records.
   */
  async poll(timeoutMs: number, callback: RingbufCallback): Promise<number> {
    const n = this.consume(callback);
    if (n > 0) return n;
    await this.wait(timeoutMs);
    return this.#closed ? 0 : this.consume(callback);
  }

  /** Waits for a wake-up (epoll on the map fd) without blocking the event loop; false on timeout. */
  async wait(timeoutMs: number): Promise<boolean> {
    this.#check();
    if (this.#waiting) throw new TsbpfError("ring buffer reader: a wait is already in progress");
    const out = new Uint8Array(EPOLL_EVENT_SIZE);
    this.#waiting = this.#sys.epollWaitAsync(this.#epfd, out, 1, timeoutMs);
    let ret: number;
    try {
      ret = await this.#waiting;
    } finally {
      this.#waiting = undefined;
      if (this.#closed) this.#release();
    }
    if (ret < 0 && ret !== -EINTR)
      throw new SyscallError("epoll_wait", -ret, { context: "ring buffer reader" });
    return ret > 0;
  }

  /**
   * Copies of the records as they arrive, until close() (or `signal` aborts). Each wait lasts at
   * most `intervalMs` so that closing is noticed soon.
   */
  async *records(options: { signal?: AbortSignal; intervalMs?: number } = {}): AsyncGenerator<Uint8Array> {
    const interval = options.intervalMs ?? 100;
    while (!this.#closed && !options.signal?.aborted) {
      const record = this.read();
      if (record) {
        yield record;
        continue;
      }
      await this.wait(interval);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    return this.records();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Unmaps the ring and closes the epoll fd (after a wait in progress returns). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = 0;
    if (!this.#waiting) this.#release();
  }

  #release(): void {
    this.#unmap();
    if (this.#epfd >= 0) closeFd(this.#epfd);
    this.#epfd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
