/**
 * Map contents as `tsbpf run --json` prints them: hex keys and values, per-CPU values as one hex
 * string per CPU, queue and stack maps as their elements in pop order with an empty key; arrays
 * (global data included) list only their non-zero slots. Prog arrays, ring buffers and perf event
 * arrays have no data to show and are left out.
 */
import { MapType } from "../../object/types.js";
import type { VmMap } from "../maps/map.js";
import type { VmObject } from "./object.js";

export interface MapEntryDump {
  readonly key: string;
  readonly value: string | string[];
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

const SKIPPED = new Set<MapType>([
  MapType.PROG_ARRAY,
  MapType.RINGBUF,
  MapType.USER_RINGBUF,
  MapType.PERF_EVENT_ARRAY,
]);
const ARRAYS = new Set<MapType>([MapType.ARRAY, MapType.PERCPU_ARRAY]);

/** The entries of one map (see the file comment); undefined for the map types left out. */
export function dumpMap(map: VmMap): MapEntryDump[] | undefined {
  if (SKIPPED.has(map.type)) return undefined;
  const withContents = map as unknown as { contents?: () => Iterable<Uint8Array> };
  if ((map.type === MapType.QUEUE || map.type === MapType.STACK) && withContents.contents)
    return [...withContents.contents()].map((v) => ({ key: "", value: hex(v) }));
  const out: MapEntryDump[] = [];
  const sparse = ARRAYS.has(map.type);
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
  return out;
}

/** Every map of an object by display name (global data under its section name). */
export function dumpMaps(object: VmObject): Record<string, MapEntryDump[]> {
  const out: Record<string, MapEntryDump[]> = {};
  for (const map of object.maps.values()) {
    let entries: MapEntryDump[] | undefined;
    try {
      entries = dumpMap(map);
    } catch {
      entries = undefined; // map kinds without host iteration (map-in-map handles…)
    }
    if (entries) out[object.displayName(map)] = entries;
  }
  return out;
}
