/**
 * createVmMap: the map kinds of the VM, as a table from map type to constructor.
 */
import { NotSupportedError } from "../../errors.js";
import { MapType, mapTypeName } from "../../object/types.js";
import type { Memory } from "../memory.js";
import { ArrayMap } from "./array.js";
import { defaultCpuCount } from "./cpus.js";
import { HashMap } from "./hash.js";
import { BloomFilterMap } from "./bloom-filter.js";
import { LpmTrieMap } from "./lpm-trie.js";
import { MapInMap } from "./map-in-map.js";
import { PerfEventArrayMap } from "./perf-event-array.js";
import { ProgArrayMap } from "./prog-array.js";
import { QueueStackMap } from "./queue-stack.js";
import { RingbufMap } from "./ringbuf.js";
import { CpuMap } from "./cpumap.js";
import { DevMap } from "./devmap.js";
import { SocketMap } from "./socket-map.js";
import type { BaseMap, VmMap, VmMapOptions, VmMapSpec } from "./map.js";
import { btfDecoderFor } from "../../object/btf-decode.js";

type Constructor = (spec: VmMapSpec, memory: Memory, options: VmMapOptions) => BaseMap;

/** Map type -> how to make one. */
export const MAP_KINDS: ReadonlyMap<MapType, Constructor> = new Map<MapType, Constructor>([
  [MapType.ARRAY, (s, m, o) => new ArrayMap(s, m, o, false)],
  [MapType.PERCPU_ARRAY, (s, m, o) => new ArrayMap(s, m, o, true)],
  [MapType.HASH, (s, m, o) => new HashMap(s, m, o, { perCpu: false, lru: false })],
  [MapType.PERCPU_HASH, (s, m, o) => new HashMap(s, m, o, { perCpu: true, lru: false })],
  [MapType.LRU_HASH, (s, m, o) => new HashMap(s, m, o, { perCpu: false, lru: true })],
  [MapType.LRU_PERCPU_HASH, (s, m, o) => new HashMap(s, m, o, { perCpu: true, lru: true })],
  [MapType.LPM_TRIE, (s, m, o) => new LpmTrieMap(s, m, o)],
  [MapType.PROG_ARRAY, (s, m, o) => new ProgArrayMap(s, m, o)],
  [MapType.ARRAY_OF_MAPS, (s, m, o) => new MapInMap(s, m, o, true)],
  [MapType.HASH_OF_MAPS, (s, m, o) => new MapInMap(s, m, o, false)],
  [MapType.RINGBUF, (s, m, o) => new RingbufMap(s, m, o)],
  [MapType.PERF_EVENT_ARRAY, (s, m, o) => new PerfEventArrayMap(s, m, o)],
  [MapType.QUEUE, (s, m, o) => new QueueStackMap(s, m, o, false)],
  [MapType.STACK, (s, m, o) => new QueueStackMap(s, m, o, true)],
  [MapType.BLOOM_FILTER, (s, m, o) => new BloomFilterMap(s, m, o)],
  [MapType.DEVMAP, (s, m, o) => new DevMap(s, m, o, false)],
  [MapType.DEVMAP_HASH, (s, m, o) => new DevMap(s, m, o, true)],
  [MapType.CPUMAP, (s, m, o) => new CpuMap(s, m, o)],
  [MapType.XSKMAP, (s, m, o) => new SocketMap(s, m, o)],
  [MapType.SOCKMAP, (s, m, o) => new SocketMap(s, m, o)],
  [MapType.SOCKHASH, (s, m, o) => new SocketMap(s, m, o)],
]);

export type CreateVmMapOptions = Partial<VmMapOptions>;

/**
 * Create a map of the VM in `memory` (its values and handle are regions of it). Throws MapError
 * for a spec the kernel would refuse (with its errno), NotSupportedError for map types the VM
 * does not have. `cpus` defaults to the host's possible CPU count.
 */
export function createVmMap(spec: VmMapSpec, memory: Memory, options: CreateVmMapOptions = {}): VmMap {
  const make = MAP_KINDS.get(spec.type);
  if (!make) throw new NotSupportedError(`${mapTypeName(spec.type)} maps in the VM`, `map '${spec.name}'`);
  const map = make(spec, memory, { ...options, cpus: options.cpus ?? defaultCpuCount() });
  map.btfDecoder = btfDecoderFor(options.datasecs);
  return map;
}
