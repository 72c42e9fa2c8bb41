/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY as a program sees it through bpf_perf_event_output: slot i is a
 * BPF-output perf event opened on CPU i (what libbpf's perf_buffer sets up), and its buffer is a
 * host queue of samples. A sample costs what it costs in a perf ring (8-byte perf_event_header +
 * u32 size + data, padded to 8); when a CPU's queue is over its byte budget the sample is lost:
 * the helper returns -ENOSPC and a lost record (PERF_RECORD_LOST) is queued for the reader.
 * Writing to another CPU's slot gives -EOPNOTSUPP and to a slot past the CPUs -ENOENT, as with
 * the kernel's events. `max_entries` 0 means one slot per CPU, as libbpf makes it.
 */
import type { Memory } from "../memory.js";
import { Errno } from "./constants.js";
import { BaseMap, MapError, readU32, u32Key, type VmMapOptions, type VmMapSpec } from "./map.js";

/** One record read from a CPU's buffer. */
export type PerfRecord =
  | { readonly cpu: number; readonly kind: "sample"; readonly data: Uint8Array }
  | { readonly cpu: number; readonly kind: "lost"; readonly lost: number };

/** Default per-CPU budget: 64 pages. */
export const DEFAULT_PERF_BUFFER_BYTES = 64 * 4096;

const sampleCost = (size: number): number => Math.ceil((8 + 4 + size) / 8) * 8;

interface CpuBuffer {
  records: PerfRecord[];
  bytes: number;
  lostTotal: number;
}

export class PerfEventArrayMap extends BaseMap {
  readonly bufferBytes: number;
  private readonly buffers: CpuBuffer[];

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec.maxEntries === 0 ? { ...spec, maxEntries: options.cpus } : spec, memory, options);
    if (spec.keySize !== 4 || spec.valueSize !== 4)
      this.createError(Errno.EINVAL, "perf event arrays need key size 4 and value size 4");
    this.bufferBytes = options.perfBufferBytes ?? DEFAULT_PERF_BUFFER_BYTES;
    this.buffers = Array.from({ length: this.maxEntries }, () => ({ records: [], bytes: 0, lostTotal: 0 }));
  }

  /** __bpf_perf_event_output for slot `index` (already resolved from BPF_F_CURRENT_CPU) on CPU `cpu`. */
  output(index: number, cpu: number, data: Uint8Array): number {
    if (index >= this.maxEntries) return -Errno.E2BIG;
    if (index >= this.cpus) return -Errno.ENOENT;
    if (index !== cpu) return -Errno.EOPNOTSUPP;
    const b = this.buffers[index]!;
    const cost = sampleCost(data.length);
    if (b.bytes + cost > this.bufferBytes) {
      b.lostTotal++;
      const last = b.records[b.records.length - 1];
      if (last?.kind === "lost") b.records[b.records.length - 1] = { ...last, lost: last.lost + 1 };
      else b.records.push({ cpu: index, kind: "lost", lost: 1 });
      return -Errno.ENOSPC;
    }
    b.bytes += cost;
    b.records.push({ cpu: index, kind: "sample", data: data.slice() });
    return 0;
  }

  /** Read and remove the records of one CPU (or of every CPU, by CPU, when `cpu` is undefined). */
  drain(cpu?: number): PerfRecord[] {
    const out: PerfRecord[] = [];
    const which = cpu === undefined ? this.buffers.map((_, i) => i) : [cpu];
    for (const i of which) {
      const b = this.buffers[i];
      if (!b) throw new MapError(this.name, "read", Errno.E2BIG, `no CPU slot ${i}`);
      out.push(...b.records);
      b.records = [];
      b.bytes = 0;
    }
    return out;
  }
  /** Samples lost so far on `cpu` (all CPUs when undefined). */
  lost(cpu?: number): number {
    if (cpu !== undefined) return this.buffers[cpu]?.lostTotal ?? 0;
    return this.buffers.reduce((n, b) => n + b.lostTotal, 0);
  }
  /** Bytes queued on `cpu`. */
  pendingBytes(cpu: number): number {
    return this.buffers[cpu]?.bytes ?? 0;
  }

  override lookup(key: Uint8Array): Uint8Array | undefined {
    void key;
    throw new MapError(this.name, "lookup", Errno.EINVAL, "perf event arrays hold perf events: use drain()");
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined || readU32(key) >= this.maxEntries) return u32Key(0);
    const i = readU32(key) + 1;
    return i < this.maxEntries ? u32Key(i) : undefined;
  }
  override *keys(): IterableIterator<Uint8Array> {}
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
