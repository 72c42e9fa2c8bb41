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
  readonly head: BigInt64Array;
  readonly tail: BigInt64Array;
  readonly data: Uint8Array;
}

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
      const ring: CpuRing = {
        cpu,
        fd,
        addr,
        length,
        head: new BigInt64Array(all, PERF_MMAP_PAGE.dataHead, 1),
        tail: new BigInt64Array(all, PERF_MMAP_PAGE.dataTail, 1),
        data: new Uint8Array(all, dataOffset, dataSize),
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

  /** Reads every waiting record of one ring. */
  #drain(ring: CpuRing, callback: (record: PerfRecord) => void): number {
    const size = ring.data.byteLength;
    const head = Atomics.load(ring.head, 0);
    let tail = Atomics.load(ring.tail, 0);
    let n = 0;
    try {
      while (tail < head) {
        const off = Number(tail % BigInt(size));
        const header = this.#bytes(ring, off, PERF_EVENT_HEADER_SIZE);
        const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
        const type = hv.getUint32(0, true);
        const recordSize = hv.getUint16(6, true);
        if (recordSize < PERF_EVENT_HEADER_SIZE)
          throw new TsbpfError(`perf buffer CPU ${ring.cpu}: corrupt record size ${recordSize}`);
        const body = this.#bytes(
          ring,
          (off + PERF_EVENT_HEADER_SIZE) % size,
          recordSize - PERF_EVENT_HEADER_SIZE,
        );
        const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
        if (type === PerfRecordType.SAMPLE) {
          const rawSize = bv.getUint32(0, true);
          callback({ type: "sample", cpu: ring.cpu, data: body.subarray(4, 4 + rawSize) });
          n++;
        } else if (type === PerfRecordType.LOST) {
          const lost = bv.getBigUint64(8, true);
          this.lost += lost;
          callback({ type: "lost", cpu: ring.cpu, lost });
          n++;
        }
        tail += BigInt(recordSize);
      }
    } finally {
      // A proper store: the kernel reuses the space once it sees data_tail move.
      Atomics.store(ring.tail, 0, tail);
    }
    return n;
  }

  /** `length` bytes at ring offset `off`: a view, or a copy when they wrap around the end. */
  #bytes(ring: CpuRing, off: number, length: number): Uint8Array {
    const size = ring.data.byteLength;
    if (off + length <= size) return ring.data.subarray(off, off + length);
    const out = new Uint8Array(length);
    const first = size - off;
    out.set(ring.data.subarray(off, size));
    out.set(ring.data.subarray(0, length - first), first);
    return out;
  }

  /** Hands every waiting record of every CPU to `callback`; returns how many. Does not wait. */
  consume(callback: (record: PerfRecord) => void): number {
    this.#check();
    let n = 0;
    for (const ring of this.#rings) n += this.#drain(ring, callback);
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
