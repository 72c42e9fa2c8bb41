/**
 * BPF_MAP_TYPE_CPUMAP (kernel/bpf/cpumap.c): CPUs that bpf_redirect_map hands XDP frames to, slot
 * i = CPU i. A value is the queue size (4 bytes) or struct bpf_cpumap_val { u32 qsize;
 * union { int fd; u32 id; } bpf_prog; } (8 bytes); qsize 0 empties the slot, above 16384 is
 * -EOVERFLOW, a CPU that is not possible -ENODEV. A program to run on the CPU (bpf_prog.fd > 0)
 * is refused with -EOPNOTSUPP: the VM does not run it; lookups show bpf_prog.id 0.
 */
import type { Memory } from "../memory.js";
import { Errno, UpdateFlags } from "./constants.js";
import { MapError, readU32, type VmMapOptions, type VmMapSpec } from "./map.js";
import { SlotMap, type RedirectEntry, type RedirectMap } from "./slot-map.js";

const ENODEV = 19;
const EOVERFLOW = 75;
/** Largest queue of a cpumap entry. */
export const CPUMAP_MAX_QSIZE = 16384;

export class CpuMap extends SlotMap<number> implements RedirectMap {
  readonly redirectFlags = 0;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options, false, [4, 8]);
  }

  protected parse(op: string, key: Uint8Array, value: Uint8Array): number | undefined {
    const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const qsize = v.getUint32(0, true);
    const progFd = value.length >= 8 ? v.getInt32(4, true) : -1;
    const cpu = readU32(key);
    if (cpu < this.maxEntries && cpu >= this.cpus)
      throw new MapError(this.name, op, ENODEV, `CPU ${cpu} is not one of the ${this.cpus} possible CPUs`);
    if (qsize > CPUMAP_MAX_QSIZE)
      throw new MapError(this.name, op, EOVERFLOW, `queue size ${qsize} > ${CPUMAP_MAX_QSIZE}`);
    if (qsize === 0) return undefined;
    if (progFd > 0)
      throw new MapError(
        this.name,
        op,
        Errno.EOPNOTSUPP,
        "cpumap programs (bpf_prog.fd) are not run by the VM",
      );
    return qsize;
  }
  protected bytesOf(qsize: number): Uint8Array {
    const b = new Uint8Array(this.valueSize);
    new DataView(b.buffer).setUint32(0, qsize, true);
    return b;
  }

  /** Opens CPU `cpu`'s queue of `qsize` frames (0 closes it). */
  setQueue(cpu: number, qsize: number, flags: number = UpdateFlags.ANY): void {
    this.update(this.keyOf("update", cpu), this.bytesOf(qsize >>> 0), flags);
  }

  redirectTarget(index: number): RedirectEntry | undefined {
    return this.entry(index) === undefined ? undefined : { cpu: index };
  }
}
