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
  readonly #consumer: BigInt64Array;
  readonly #producer: BigInt64Array;
  readonly #data: Uint8Array;
  readonly #headers: Int32Array;
  /** Consumer position after the record handed out by next() (committed on the next call). */
  #pending: bigint | undefined;
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
    this.#consumer = new BigInt64Array(sys.view(this.#consumerAddr, 8));
    const producer = sys.view(this.#producerAddr, page + 2 * size);
    this.#producer = new BigInt64Array(producer, 0, 1);
    this.#data = new Uint8Array(producer, page, 2 * size);
    this.#headers = new Int32Array(producer, page, (2 * size) / 4);
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
    return Number(Atomics.load(this.#producer, 0) - Atomics.load(this.#consumer, 0));
  }

  #commitPending(): void {
    if (this.#pending !== undefined) {
      Atomics.store(this.#consumer, 0, this.#pending);
      this.#pending = undefined;
    }
  }

  /**
   * The next record as a view into the ring (zero copy), valid until the next call of next(),
   * consume(), read() or close(); undefined when no committed record is waiting.
   */
  next(): Uint8Array | undefined {
    this.#check();
    this.#commitPending();
    const mask = BigInt(this.size - 1);
    let cons = Atomics.load(this.#consumer, 0);
    for (;;) {
      const prod = Atomics.load(this.#producer, 0);
      if (cons >= prod) return undefined;
      const off = Number(cons & mask);
      // The header is read with acquire semantics: the record is complete once BUSY is clear.
      const header = Atomics.load(this.#headers, off / 4) >>> 0;
      if (header & RINGBUF_BUSY_BIT) return undefined;
      const len = header & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
      const next = cons + BigInt((len + RINGBUF_HEADER_SIZE + 7) & ~7);
      if (header & RINGBUF_DISCARD_BIT) {
        Atomics.store(this.#consumer, 0, next);
        cons = next;
        continue;
      }
      this.#pending = next;
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
   * Hands every waiting record to `callback` (a view valid during the call) and advances past
   * it; returns how many records were consumed. Does not wait.
   */
  consume(callback: RingbufCallback, max = Infinity): number {
    let n = 0;
    while (n < max) {
      const view = this.next();
      if (!view) break;
      try {
        callback(view);
      } finally {
        this.#commitPending();
      }
      n++;
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
    this.#pending = undefined;
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
