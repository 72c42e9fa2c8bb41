export * from "./types.js";
export * from "./spec.js";
export {
  SECTION_DEFS,
  matchSection,
  sectionMatches,
  type SectionDef,
  type SectionFlag,
  type SectionMatch,
  type AutoAttach,
} from "./sections.js";
export { loadObjectSpec, objectNameOf, type LoadObjectOptions } from "./load.js";
export { KconfigError, type KconfigValue, type KconfigValues } from "./externs.js";
export { internalMapName } from "./globals.js";
export { BPFFS_ROOT, TC_GLOBALS } from "./maps.js";
export { loadObjectFile, readHostKconfig, parseKconfig, kernelVersionCode } from "./host.js";
export {
  elfLayout,
  prepareObjectBtf,
  sanitizeBtfKinds,
  specDatasecLayout,
  type DatasecLayout,
  type PreparedBtf,
  type SectionLayout,
} from "./btf-fixup.js";
export { btfDecoderFor, type BtfDecoder } from "./btf-decode.js";
export { rewriteConstants, resizeMaps, type ConstantValue } from "./rewrite.js";
