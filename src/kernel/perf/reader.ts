import { endianness } from "node:os";
import { TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import type { KernelMap } from "../map.js";
import {
  EPOLL_EVENT_SIZE,
  MapType,
  closeFd,
  getMapInfo,
  mapDeleteElem,
  mapUpdateElem,
  syscalls,
  type SyscallInterface,
} from "../sys/index.js";
import {
  PERF_EVENT_HEADER_SIZE,
  PERF_MMAP_PAGE,
  PerfAttrFlag,
  PerfIoctl,
  PerfRecordType,
  PerfSample,
  PerfSwConfig,
  PerfType,
} from "../sys/perf-event-attr.js";
import { onlineCpus, openPerfEvent, pageSize, perfIoctl } from "./event.js";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0x80000;
const EINTR = 4;

/** A record of a perf buffer: a sample's raw data, or the number of samples the kernel dropped. */
export type PerfRecord =
  | {
      readonly type: "sample";
      readonly cpu: number;
      /**
       * The raw bytes as bpf_perf_event_output wrote them, followed by the kernel's padding to
       * 8 bytes (so possibly up to 7 bytes longer). In consume()'s callback, a view valid only
       * during the call; copied elsewhere.
       */
      readonly data: Uint8Array;
    }
  | { readonly type: "lost"; readonly cpu: number; readonly lost: bigint };

/** Options of a perf buffer. */
export interface PerfBufferOptions {
  /** Data pages per CPU, a power of 2 (default 8). */
  pageCount?: number;
  /** Wake the reader every N samples (default 1); see watermarkBytes. */
  wakeupEvents?: number;
  /** Wake the reader when this many bytes are waiting (instead of wakeupEvents). */
  watermarkBytes?: number;
  /** CPUs to read (default: every online CPU). */
  cpus?: readonly number[];
}

interface CpuRing {
  readonly cpu: number;
  readonly fd: number;
  readonly addr: bigint;
  readonly length: number;
  /** data_head and data_tail as 32-bit halves: the loop needs only their low halves. */
  readonly head32: Uint32Array;
  readonly tail32: Uint32Array;
  /** data_tail as one u64, for the store that hands the space back to the kernel. */
  readonly tail: BigInt64Array;
  readonly data: Uint8Array;
  readonly view: DataView;
  /** The data as 32-bit words: headers and sizes are 8-byte aligned, read without a DataView. */
  readonly words: Uint32Array;
  /** data_size - 1 (data_size is a power of 2). */
  readonly mask: number;
}

/** A sample's raw data: `length` bytes at `offset` of `view`, valid only during the call. */
export type PerfRawCallback = (view: DataView, offset: number, length: number, cpu: number) => void;

const LITTLE = endianness() === "LE";
const SAMPLE: number = PerfRecordType.SAMPLE;
const LOST: number = PerfRecordType.LOST;
/** Index of the low 32-bit half of a u64 in a Uint32Array over it. */
const LOW = LITTLE ? 0 : 1;
/** struct perf_event_header's second word, {u16 misc; u16 size}, read as one u32: the size. */
const recordSizeOf = LITTLE ? (word: number): number => word >>> 16 : (word: number): number => word & 0xffff;

/**
 * Reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY filled by bpf_perf_event_output (4.4), like libbpf's
 * perf_buffer: one PERF_COUNT_SW_BPF_OUTPUT event per CPU with PERF_SAMPLE_RAW, its ring
 * (1 metadata page + 2^n data pages) mmap'd and stored in the map at the CPU's index.
 * Records that wrap around the end of a ring are reassembled; PERF_RECORD_LOST counts are
 * reported and added to `lost`.
 */
export class PerfBufferReader {
  readonly #sys: SyscallInterface;
  readonly #mapFd: number;
  readonly #rings: CpuRing[] = [];
  #epfd = -1;
  #waiting: Promise<number> | undefined;
  #closed = false;
  /** Samples the kernel reported lost so far (sum of PERF_RECORD_LOST). */
  lost = 0n;

  private constructor(mapFd: number) {
    this.#sys = syscalls();
    this.#mapFd = mapFd;
  }

  /** Opens a reader on a perf event array map (which must stay open while reading). */
  static open(map: KernelMap | number, options: PerfBufferOptions = {}): PerfBufferReader {
    const fd = typeof map === "number" ? map : map.fd;
    const info = getMapInfo(fd);
    if (info.type !== MapType.PERF_EVENT_ARRAY)
      throw new TsbpfError(
        `map '${info.name}' (id ${info.id}) is a ${info.typeName} map, not a perf_event_array`,
      );
    const pages = options.pageCount ?? 8;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0)
      throw new TsbpfError(`perf buffer: pageCount ${pages} is not a power of 2`);
    const reader = new PerfBufferReader(fd);
    try {
      reader.#setup(info.maxEntries, pages, options);
    } catch (e) {
      reader.close();
      throw e;
    }
    return reader;
  }

  #setup(maxEntries: number, pages: number, options: PerfBufferOptions): void {
    const sys = this.#sys;
    this.#epfd = sys.epollCreate1(EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new SyscallError("epoll_create1", -this.#epfd, { context: "perf buffer" });
    const page = pageSize();
    const length = page * (pages + 1);
    const watermark = options.watermarkBytes !== undefined;
    for (const cpu of options.cpus ?? onlineCpus()) {
      if (cpu >= maxEntries) continue; // the map has no slot for it (like libbpf)
      const fd = openPerfEvent(
        {
          type: PerfType.SOFTWARE,
          config: PerfSwConfig.BPF_OUTPUT,
          sample_type: PerfSample.RAW,
          sample_period: 1,
          flags: watermark ? PerfAttrFlag.WATERMARK : 0,
          wakeup_events: watermark ? options.watermarkBytes : (options.wakeupEvents ?? 1),
        },
        { pid: -1, cpu },
        `open perf buffer on CPU ${cpu}`,
      );
      const addr = sys.mmap(length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (addr < 0n) {
        closeFd(fd);
        throw new SyscallError("mmap", Number(-addr), { context: `perf buffer ring of CPU ${cpu}` });
      }
      const all = sys.view(addr, length);
      const meta = new DataView(all, 0, page);
      // data_offset/data_size exist since 4.1; before, data starts at the second page.
      const dataOffset = Number(meta.getBigUint64(PERF_MMAP_PAGE.dataOffset, true)) || page;
      const dataSize = Number(meta.getBigUint64(PERF_MMAP_PAGE.dataSize, true)) || page * pages;
      if (dataSize & (dataSize - 1))
        throw new TsbpfError(`perf buffer CPU ${cpu}: data size ${dataSize} is not a power of 2`);
      const ring: CpuRing = {
        cpu,
        fd,
        addr,
        length,
        head32: new Uint32Array(all, PERF_MMAP_PAGE.dataHead, 2),
        tail32: new Uint32Array(all, PERF_MMAP_PAGE.dataTail, 2),
        tail: new BigInt64Array(all, PERF_MMAP_PAGE.dataTail, 1),
        data: new Uint8Array(all, dataOffset, dataSize),
        view: new DataView(all, dataOffset, dataSize),
        words: new Uint32Array(all, dataOffset, dataSize / 4),
        mask: dataSize - 1,
      };
      this.#rings.push(ring);
      const key = new Uint8Array(Uint32Array.of(cpu).buffer);
      mapUpdateElem(this.#mapFd, key, new Uint8Array(Uint32Array.of(fd).buffer));
      perfIoctl(fd, PerfIoctl.ENABLE, 0, `perf buffer on CPU ${cpu}`);
      const r = sys.epollCtl(this.#epfd, EPOLL_CTL_ADD, fd, EPOLLIN, BigInt(this.#rings.length - 1));
      if (r < 0) throw new SyscallError("epoll_ctl", -r, { context: `perf buffer on CPU ${cpu}` });
    }
    if (this.#rings.length === 0) throw new TsbpfError("perf buffer: no CPU to read (map too small?)");
  }

  /** The CPUs read. */
  get cpus(): number[] {
    return this.#rings.map((r) => r.cpu);
  }

  #check(): void {
    if (this.#closed) throw new TsbpfError("perf buffer reader is closed");
  }

  /**
   * Reads every waiting record of one ring, like libbpf's perf_event_read_simple: data_head is
   * read once (acquire), records are 8-byte aligned so a header never wraps but a sample's data
   * may (then it is copied), and data_tail is stored once at the end (release), past the last
   * record the callback returned from. Positions are handled as their low 32 bits (the ring is
   * smaller than 4 GiB): one BigInt operation per call, none per record.
   */
  #drain(ring: CpuRing, onSample: PerfRawCallback, onLost?: (lost: bigint, cpu: number) => void): number {
    const { view, words, mask, cpu } = ring;
    const size = mask + 1;
    const tail = ring.tail32[LOW]!;
    const avail = (Atomics.load(ring.head32, LOW) - tail) >>> 0;
    let done = 0;
    let n = 0;
    try {
      while (done < avail) {
        const off = (tail + done) & mask;
        const type = words[off >>> 2]!;
        const recordSize = recordSizeOf(words[(off >>> 2) + 1]!);
        if (recordSize < PERF_EVENT_HEADER_SIZE || recordSize > avail - done)
          throw new TsbpfError(`perf buffer CPU ${cpu}: corrupt record size ${recordSize}`);
        const body = (off + PERF_EVENT_HEADER_SIZE) & mask;
        if (type === SAMPLE) {
          // struct { u32 size; char data[size]; } after the header
          const rawSize = words[body >>> 2]!;
          const start = (body + 4) & mask;
          if (start + rawSize <= size) onSample(view, start, rawSize, cpu);
          else {
            const copy = this.#bytes(ring, start, rawSize);
            onSample(new DataView(copy.buffer, 0, rawSize), 0, rawSize, cpu);
          }
          n++;
        } else if (type === LOST) {
          // struct { u64 id; u64 lost; } after the header (never wraps: 8-byte aligned)
          const lost = view.getBigUint64((body + 8) & mask, true);
          this.lost += lost;
          onLost?.(lost, cpu);
          n++;
        }
        done += recordSize;
      }
    } finally {
      // A proper store: the kernel reuses the space once it sees data_tail move.
      if (done) Atomics.store(ring.tail, 0, Atomics.load(ring.tail, 0) + BigInt(done));
    }
    return n;
  }

  /** `length` bytes at ring offset `off`, copied (they wrap around the end). */
  #bytes(ring: CpuRing, off: number, length: number): Uint8Array {
    const size = ring.data.byteLength;
    const out = new Uint8Array(length);
    const first = Math.min(length, size - off);
    out.set(ring.data.subarray(off, off + first));
    out.set(ring.data.subarray(0, length - first), first);
    return out;
  }

  /**
   * The fast path: hands each sample's raw bytes of every CPU to `callback` as (view, offset,
   * length, cpu), without allocating; lost samples are only added to `lost`. Returns how many
   * samples. Does not wait.
   */
  consumeRaw(callback: PerfRawCallback): number {
    this.#check();
    let n = 0;
    for (const ring of this.#rings) n += this.#drain(ring, callback);
    return n;
  }

  /** Hands every waiting record of every CPU to `callback`; returns how many. Does not wait. */
  consume(callback: (record: PerfRecord) => void): number {
    this.#check();
    const sample: PerfRawCallback = (view, offset, length, cpu) =>
      callback({
        type: "sample",
        cpu,
        data: new Uint8Array(view.buffer, view.byteOffset + offset, length),
      });
    const lost = (count: bigint, cpu: number): void => callback({ type: "lost", cpu, lost: count });
    let n = 0;
    for (const ring of this.#rings) n += this.#drain(ring, sample, lost);
    return n;
  }

  /** Copies of every waiting record. */
  readAll(): PerfRecord[] {
    const out: PerfRecord[] = [];
    this.consume((r) => out.push(r.type === "sample" ? { ...r, data: r.data.slice() } : r));
    return out;
  }

  /** Consumes, or waits up to `timeoutMs` (-1: forever) on a worker thread, then consumes. */
  async poll(timeoutMs: number, callback: (record: PerfRecord) => void): Promise<number> {
    const n = this.consume(callback);
    if (n > 0) return n;
    await this.wait(timeoutMs);
    return this.#closed ? 0 : this.consume(callback);
  }

  /** Waits for a wake-up of any CPU's ring; false on timeout. Does not block the event loop. */
  async wait(timeoutMs: number): Promise<boolean> {
    this.#check();
    if (this.#waiting) throw new TsbpfError("perf buffer reader: a wait is already in progress");
    const out = new Uint8Array(EPOLL_EVENT_SIZE * this.#rings.length);
    this.#waiting = this.#sys.epollWaitAsync(this.#epfd, out, this.#rings.length, timeoutMs);
    let ret: number;
    try {
      ret = await this.#waiting;
    } finally {
      this.#waiting = undefined;
      if (this.#closed) this.#release();
    }
    if (ret < 0 && ret !== -EINTR) throw new SyscallError("epoll_wait", -ret, { context: "perf buffer" });
    return ret > 0;
  }

  /** Records (copied) as they arrive, until close() or `signal` aborts. */
  async *records(options: { signal?: AbortSignal; intervalMs?: number } = {}): AsyncGenerator<PerfRecord> {
    while (!this.#closed && !options.signal?.aborted) {
      const batch = this.readAll();
      yield* batch;
      if (batch.length === 0 && !this.#closed) await this.wait(options.intervalMs ?? 100);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<PerfRecord> {
    return this.records();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Removes the events from the map, unmaps the rings and closes every fd. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#waiting) this.#release();
  }

  #release(): void {
    for (const ring of this.#rings.splice(0)) {
      try {
        mapDeleteElem(this.#mapFd, new Uint8Array(Uint32Array.of(ring.cpu).buffer));
      } catch {
        // the map may be gone already
      }
      this.#sys.munmap(ring.addr, ring.length);
      closeFd(ring.fd);
    }
    if (this.#epfd >= 0) closeFd(this.#epfd);
    this.#epfd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
