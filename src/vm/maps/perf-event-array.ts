/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY as a program sees it through bpf_perf_event_output. A slot holds a
 * perf event only once the host opened one for it: `map.open()` gives a VmPerfBufferReader (the
 * VM's counterpart of the kernel backend's PerfBufferReader) that puts one BPF-output event per
 * CPU in slot `cpu`, as libbpf's perf_buffer does. Like the kernel's:
 * - an index past max_entries gives -E2BIG, an empty slot -ENOENT, another CPU's event
 *   -EOPNOTSUPP;
 * - a sample costs what it costs in a perf ring (8-byte perf_event_header + u32 size + data,
 *   padded to 8); when a CPU's ring is over its byte budget the sample is lost: the helper returns
 *   -ENOSPC and a lost record (PERF_RECORD_LOST) is queued for the reader.
 * `max_entries` 0 means one slot per CPU, as libbpf makes it.
 */
import { TsbpfError } from "../../errors.js";
import type { Memory } from "../memory.js";
import { Errno } from "./constants.js";
import { BaseMap, MapError, readU32, u32Key, type VmMapOptions, type VmMapSpec } from "./map.js";

/** A record of a perf buffer: a sample's data, or the number of samples lost (as the kernel reader's). */
export type PerfRecord =
  | { readonly type: "sample"; readonly cpu: number; readonly data: Uint8Array }
  | { readonly type: "lost"; readonly cpu: number; readonly lost: bigint };

/** Default per-CPU budget: 64 pages. */
export const DEFAULT_PERF_BUFFER_BYTES = 64 * 4096;

/** Options of `PerfEventArrayMap.open` (the kernel reader's `cpus`; a byte budget for its pages). */
export interface VmPerfBufferOptions {
  /** CPUs to open an event on (default: every CPU the map has a slot for). */
  readonly cpus?: readonly number[];
  /** Bytes of each CPU's ring (default the map's `perfBufferBytes`, 64 pages). */
  readonly bufferBytes?: number;
}

const sampleCost = (size: number): number => Math.ceil((8 + 4 + size) / 8) * 8;

/** One CPU's perf event: its ring, as queued records and their cost in bytes. */
interface PerfSlot {
  readonly reader: VmPerfBufferReader;
  readonly cpu: number;
  records: PerfRecord[];
  bytes: number;
}

export class PerfEventArrayMap extends BaseMap {
  /** Default ring budget of the readers opened on this map. */
  readonly bufferBytes: number;
  private readonly slots: (PerfSlot | undefined)[];

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec.maxEntries === 0 ? { ...spec, maxEntries: options.cpus } : spec, memory, options);
    if (spec.keySize !== 4 || spec.valueSize !== 4)
      this.createError(Errno.EINVAL, "perf event arrays need key size 4 and value size 4");
    this.bufferBytes = options.perfBufferBytes ?? DEFAULT_PERF_BUFFER_BYTES;
    this.slots = new Array<PerfSlot | undefined>(this.maxEntries).fill(undefined);
  }

  /**
   * Opens a BPF-output event per CPU into the slot of that CPU's index (replacing what a slot
   * held), and a reader of their rings; until then bpf_perf_event_output fails with -ENOENT.
   */
  open(options: VmPerfBufferOptions = {}): VmPerfBufferReader {
    const bytes = options.bufferBytes ?? this.bufferBytes;
    if (!Number.isSafeInteger(bytes) || bytes < 1)
      throw new TsbpfError(`perf buffer: bufferBytes ${bytes} is not a positive integer`);
    const cpus = options.cpus ?? Array.from({ length: this.cpus }, (_, i) => i);
    for (const cpu of cpus)
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus)
        throw new TsbpfError(`perf buffer: no CPU ${cpu} (the VM has ${this.cpus})`);
    const chosen = [...new Set(cpus)].filter((cpu) => cpu < this.maxEntries); // no slot: skipped, like libbpf
    if (chosen.length === 0) throw new TsbpfError("perf buffer: no CPU to read (map too small?)");
    const reader = new VmPerfBufferReader(this, bytes);
    for (const cpu of chosen) {
      const slot: PerfSlot = { reader, cpu, records: [], bytes: 0 };
      this.slots[cpu] = slot;
      reader._slots.push(slot);
    }
    return reader;
  }

  /** @internal the reader's close: empties the slots still holding its events. */
  _release(reader: VmPerfBufferReader): void {
    this.slots.forEach((s, i) => {
      if (s?.reader === reader) this.slots[i] = undefined;
    });
  }

  /** Whether slot `index` holds a perf event. */
  isOpen(index: number): boolean {
    return this.slots[index] !== undefined;
  }

  /** __bpf_perf_event_output for slot `index` (already resolved from BPF_F_CURRENT_CPU) on CPU `cpu`. */
  output(index: number, cpu: number, data: Uint8Array): number {
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const slot = this.slots[index];
    if (!slot) return -Errno.ENOENT;
    if (slot.cpu !== cpu) return -Errno.EOPNOTSUPP;
    const cost = sampleCost(data.length);
    if (slot.bytes + cost > slot.reader.bufferBytes) {
      slot.reader.lost++;
      const last = slot.records[slot.records.length - 1];
      if (last?.type === "lost") slot.records[slot.records.length - 1] = { ...last, lost: last.lost + 1n };
      else slot.records.push({ type: "lost", cpu, lost: 1n });
      return -Errno.ENOSPC;
    }
    slot.bytes += cost;
    slot.records.push({ type: "sample", cpu, data: data.slice() });
    slot.reader._wake();
    return 0;
  }

  /** BPF_MAP_DELETE_ELEM: takes the event out of slot `key` (false when it held none). */
  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey("delete", key);
    const i = readU32(key);
    if (i >= this.maxEntries) throw new MapError(this.name, "delete", Errno.E2BIG);
    const had = this.slots[i] !== undefined;
    this.slots[i] = undefined;
    return had;
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    void key;
    throw new MapError(this.name, "lookup", Errno.EINVAL, "perf event arrays hold perf events: use open()");
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined || readU32(key) >= this.maxEntries) return u32Key(0);
    const i = readU32(key) + 1;
    return i < this.maxEntries ? u32Key(i) : undefined;
  }
  override *keys(): IterableIterator<Uint8Array> {}
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}

/**
 * Reads the perf events a PerfEventArrayMap.open made, with the kernel backend's
 * PerfBufferReader API (consume, readAll, poll, wait, records, lost, close). Records of a CPU
 * come in order; CPUs in increasing order.
 */
export class VmPerfBufferReader {
  /** @internal */
  readonly _slots: PerfSlot[] = [];
  #closed = false;
  #waiters: (() => void)[] = [];
  /** Samples lost so far (sum of the lost records). */
  lost = 0n;

  /** @internal use PerfEventArrayMap.open */
  constructor(
    readonly map: PerfEventArrayMap,
    /** Bytes of each CPU's ring. */
    readonly bufferBytes: number,
  ) {}

  /** The CPUs read. */
  get cpus(): number[] {
    return this._slots.map((s) => s.cpu);
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** Hands every waiting record of every CPU to `callback`; returns how many. Does not wait. */
  consume(callback: (record: PerfRecord) => void): number {
    if (this.#closed) throw new TsbpfError("perf buffer reader is closed");
    let n = 0;
    for (const slot of this._slots) {
      const records = slot.records;
      slot.records = [];
      slot.bytes = 0;
      for (const r of records) callback(r);
      n += records.length;
    }
    return n;
  }

  /** Every waiting record. */
  readAll(): PerfRecord[] {
    const out: PerfRecord[] = [];
    this.consume((r) => out.push(r));
    return out;
  }

  /** Bytes waiting in `cpu`'s ring. */
  pendingBytes(cpu: number): number {
    return this._slots.find((s) => s.cpu === cpu)?.bytes ?? 0;
  }

  /** Consumes, or waits up to `timeoutMs` (-1: forever) for a sample, then consumes. */
  async poll(timeoutMs: number, callback: (record: PerfRecord) => void): Promise<number> {
    const n = this.consume(callback);
    if (n > 0) return n;
    await this.wait(timeoutMs);
    return this.#closed ? 0 : this.consume(callback);
  }

  /** Waits until a program writes a sample to one of the rings; false on timeout. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.#closed) throw new TsbpfError("perf buffer reader is closed");
    if (this._slots.some((s) => s.records.length > 0)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
      if (timeoutMs >= 0)
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== wake);
          resolve(false);
        }, timeoutMs);
    });
  }

  /** @internal a sample arrived */
  _wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Records as they arrive, until close() or `signal` aborts. */
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

  /** Takes the events out of the map (programs get -ENOENT again) and drops what was unread. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.map._release(this);
    this._slots.length = 0;
    this._wake();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
