export * from "./constants.js";
export {
  BaseMap,
  MapError,
  memoryMapTable,
  regionOwner,
  keyId,
  u32Key,
  readU32,
  checkUpdateFlags,
  GRAVEYARD_SIZE,
  type VmMap,
  type VmMapSpec,
  type VmMapOptions,
  type MapTable,
  type BtfDecoder,
} from "./map.js";
export { ArrayMap } from "./array.js";
export { HashMap, type HashKind } from "./hash.js";
export { createVmMap, MAP_KINDS, type CreateVmMapOptions } from "./create.js";
export { defaultCpuCount, countCpuList } from "./cpus.js";
export { LpmTrieMap } from "./lpm-trie.js";
export { ProgArrayMap } from "./prog-array.js";
export { MapInMap } from "./map-in-map.js";
export { RingbufMap, RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT, RINGBUF_HDR_SZ } from "./ringbuf.js";
export {
  PerfEventArrayMap,
  VmPerfBufferReader,
  DEFAULT_PERF_BUFFER_BYTES,
  type PerfRecord,
  type VmPerfBufferOptions,
} from "./perf-event-array.js";
export { QueueStackMap } from "./queue-stack.js";
export { BloomFilterMap, DEFAULT_BLOOM_HASH_FUNCS } from "./bloom-filter.js";
export { jhash, jhash2 } from "./jhash.js";
export { PinNamespace, PinError } from "./pin.js";
export { btfDecoderFor } from "../../object/btf-decode.js";
export { DevMap, DEVMAP_REDIRECT_FLAGS } from "./devmap.js";
export { CpuMap, CPUMAP_MAX_QSIZE } from "./cpumap.js";
export { SocketMap } from "./socket-map.js";
export { SlotMap, isRedirectMap, type RedirectMap, type RedirectEntry } from "./slot-map.js";
