/**
 * The kernel backend of `tsbpf run OBJ --backend kernel`: loads the object with KernelCollection,
 * runs the program with BPF_PROG_TEST_RUN and reads every map back in the form of the VM
 * backend's output (hex keys and values, per-CPU values as one hex string per possible CPU,
 * queue/stack elements in pop order with an empty key, arrays without their all-zero slots,
 * global data under the section name; entries sorted by key). Pinned maps go under a private directory that is
 * removed afterwards unless the caller gives one.
 */
import { rmSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { MapType, type ObjectSpec } from "../object/index.js";
import type { KernelMap } from "./map.js";
import { KernelCollection, runKernelProgram } from "./object/index.js";

/** Input of one run: the shape of the CLI's RunInput. */
export interface KernelRunInput {
  readonly dataIn?: Uint8Array;
  readonly ctxIn?: Uint8Array;
  readonly repeat: number;
  /** Not supported by the kernel for most program types (BPF_F_TEST_RUN_ON_CPU is raw_tp only). */
  readonly cpu?: number;
}

export interface KernelMapEntry {
  readonly key: string;
  readonly value: string | string[];
}

/** Output of one run: the shape of the CLI's RunOutput. */
export interface KernelRunOutput {
  readonly program: string;
  readonly programType: string;
  readonly retval: number;
  readonly retvalMeaning: string;
  readonly dataOut: Uint8Array | undefined;
  readonly nsPerRun: number;
  readonly maps: Readonly<Record<string, readonly KernelMapEntry[]>>;
}

export interface KernelRunBackendOptions {
  /** Meaning of a return value for a program type ("XDP_PASS (2)"); default: the number. */
  readonly describeReturn?: (programType: string, retval: number) => string;
  /** Where pinned maps go (default: a private directory under /sys/fs/bpf, removed after the run). */
  readonly pinPath?: string;
}

/** Maps with nothing to show (program fds, event streams), as the VM backend leaves them out. */
const SKIPPED = new Set<MapType>([
  MapType.PROG_ARRAY,
  MapType.RINGBUF,
  MapType.USER_RINGBUF,
  MapType.PERF_EVENT_ARRAY,
]);
/** Maps that cannot be iterated: shown empty. */
const OPAQUE = new Set<MapType>([MapType.BLOOM_FILTER]);
const ARRAYS = new Set<MapType>([MapType.ARRAY, MapType.PERCPU_ARRAY]);

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** The entries of one kernel map in the run output's form; undefined for the types left out. */
export function dumpKernelMap(map: KernelMap): KernelMapEntry[] | undefined {
  const type = map.info.type as MapType;
  if (SKIPPED.has(type)) return undefined;
  if (OPAQUE.has(type)) return [];
  if (type === MapType.QUEUE || type === MapType.STACK) {
    const out: KernelMapEntry[] = [];
    for (let v = map.pop(); v !== undefined; v = map.pop()) out.push({ key: "", value: hex(v) });
    return out;
  }
  const out: KernelMapEntry[] = [];
  const sparse = ARRAYS.has(type);
  for (const key of map.keys()) {
    if (map.perCpu) {
      const values = map.lookupPerCpu(key);
      if (!values || (sparse && values.every(isZero))) continue;
      out.push({ key: hex(key), value: values.map(hex) });
    } else {
      const value = map.lookup(key);
      if (!value || (sparse && isZero(value))) continue;
      out.push({ key: hex(key), value: hex(value) });
    }
  }
  // Hash iteration order is the kernel's bucket order: sort so that runs compare.
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Every map of a collection by display name (global data by section). */
export function dumpKernelMaps(collection: KernelCollection): Record<string, KernelMapEntry[]> {
  const out: Record<string, KernelMapEntry[]> = {};
  for (const [name, map] of collection.maps) {
    const entries = dumpKernelMap(map);
    if (entries) out[collection.spec.globals.find((g) => g.map === name)?.section ?? name] = entries;
  }
  return out;
}

let runs = 0;

/** The kernel RunBackend (see the file comment). */
export function kernelRunBackend(options: KernelRunBackendOptions = {}): {
  readonly name: string;
  run(obj: ObjectSpec, prog: string, input: KernelRunInput): KernelRunOutput;
} {
  return {
    name: "kernel",
    run(obj, prog, input) {
      const spec =
        obj.programs.find((p) => p.name === prog) ??
        (obj.programs.filter((p) => p.section === prog).length === 1
          ? obj.programs.find((p) => p.section === prog)
          : undefined);
      if (!spec)
        throw new TsbpfError(
          `no program '${prog}' in ${obj.file ?? obj.name} (programs: ${obj.programs.map((p) => p.name).join(", ") || "none"})`,
        );
      if (input.cpu !== undefined && input.cpu !== 0)
        throw new TsbpfError(
          "--cpu is not supported by the kernel backend (the kernel runs the test on the calling CPU)",
        );
      const privatePins = options.pinPath === undefined;
      const pinPath = options.pinPath ?? `/sys/fs/bpf/tsbpf-run-${process.pid}-${runs++}`;
      try {
        using collection = KernelCollection.load(obj, { pinPath });
        const r = runKernelProgram(collection.program(spec.name), spec, input);
        return {
          program: spec.name,
          programType: spec.typeName,
          retval: r.retval,
          retvalMeaning: options.describeReturn?.(spec.typeName, r.retval) ?? String(r.retval),
          dataOut: r.dataOut,
          nsPerRun: r.nsPerRun,
          maps: dumpKernelMaps(collection),
        };
      } finally {
        if (privatePins) rmSync(pinPath, { recursive: true, force: true });
      }
    },
  };
}
