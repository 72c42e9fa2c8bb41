export { Btf, parseBtf, type BtfHeader, type ParseBtfOptions } from "./Btf.js";
export * from "./kinds.js";
export * from "./types.js";
export { StringTable } from "./strings.js";
export {
  alignof,
  isPacked,
  resolveTypedefs,
  sizeof,
  skipModifiers,
  typeError,
  BPF_PTR_SIZE,
  MAX_RESOLVE_DEPTH,
} from "./layout.js";
export { dumpRaw, formatRawType } from "./dump-raw.js";
export {
  encodeBtf,
  BtfEncodeError,
  StringTableBuilder,
  type EncodableType,
  type EncodeBtfOptions,
} from "./encode.js";
