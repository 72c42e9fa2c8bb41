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
