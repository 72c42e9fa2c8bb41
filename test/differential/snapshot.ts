/**
 * What a differential test compares after a run: retval, output data and every readable map's
 * contents, in the form of `tsbpf run`'s JSON (hex strings; per-CPU values as arrays of hex
 * strings; global data under the section name; queue/stack as elements in pop order with an
 * empty key; entries whose value is all zeros left out).
 */
import { MapType } from "../../src/object/index.js";
import type { LoadedMap, LoadedObject, RunResult } from "../../src/load.js";

export interface MapEntrySnapshot {
  readonly key: string;
  readonly value: string | readonly string[];
}

export interface RunSnapshot {
  readonly retval: number;
  readonly dataOut: string | undefined;
  readonly maps: Readonly<Record<string, readonly MapEntrySnapshot[]>>;
}

/** Map types whose values userspace cannot read back as data (fds/ids, event streams, bits). */
const UNREADABLE: ReadonlySet<MapType> = new Set([
  MapType.PROG_ARRAY,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.PERF_EVENT_ARRAY,
  MapType.RINGBUF,
  MapType.USER_RINGBUF,
  MapType.BLOOM_FILTER,
  MapType.STACK_TRACE,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.CGROUP_ARRAY,
  MapType.XSKMAP,
  MapType.CPUMAP,
]);

export const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");
const zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** The readable contents of one map (destructive for queues and stacks: they are popped). */
export function mapSnapshot(m: LoadedMap): MapEntrySnapshot[] | undefined {
  if (UNREADABLE.has(m.type)) return undefined;
  if (m.type === MapType.QUEUE || m.type === MapType.STACK) {
    const out: MapEntrySnapshot[] = [];
    for (let v = m.pop(); v !== undefined; v = m.pop()) out.push({ key: "", value: hex(v) });
    return out;
  }
  const out: MapEntrySnapshot[] = [];
  for (const key of m.keys()) {
    if (m.perCpu) {
      const values = m.lookupPerCpu(key);
      if (values && values.some((v) => !zero(v))) out.push({ key: hex(key), value: values.map(hex) });
    } else {
      const v = m.lookup(key);
      if (v && !zero(v)) out.push({ key: hex(key), value: hex(v) });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Retval, data and maps of an object after a run. */
export function snapshot(obj: LoadedObject, run: RunResult): RunSnapshot {
  const maps: Record<string, MapEntrySnapshot[]> = {};
  for (const [name, m] of obj.maps) {
    const display = obj.spec.globals.find((g) => g.map === name)?.section ?? name;
    const s = mapSnapshot(m);
    if (s) maps[display] = s;
  }
  return { retval: run.retval, dataOut: run.dataOut ? hex(run.dataOut) : undefined, maps };
}
