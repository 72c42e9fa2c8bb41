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
export {
  parseBtfExt,
  CoreReloKind,
  CORE_RELO_KIND_NAMES,
  type BtfExt,
  type CoreRelo,
  type FuncInfo,
  type LineInfo,
  type ParseBtfExtOptions,
} from "./ext.js";
export { dumpC, type DumpCOptions } from "./dump-c.js";
export { loadKernelBtf, loadModuleBtf, KERNEL_BTF_DIR, KERNEL_BTF_PATH } from "./kernel.js";
export * from "./core/index.js";
export { decodeBtfValue, decodeBtfType } from "./value.js";
export { bpftoolTypeName } from "./signature.js";
