export * from "./errors.js";
export * as isa from "./isa/index.js";
export * as elf from "./elf/index.js";
export * as btf from "./btf/index.js";
export * as object from "./object/index.js";
export * as vm from "./vm/index.js";
export * as kernel from "./kernel/index.js";
export {
  load,
  loadSync,
  type Backend,
  type LoadOptions,
  type LoadedObject,
  type LoadedProgram,
  type LoadedMap,
  type RunInput,
  type RunResult,
} from "./load.js";
export {
  KernelCollection,
  PinnedMapMismatchError,
  ProgramVerifierError,
  type KernelCollectionOptions,
} from "./kernel/object/index.js";
export {
  attachBySection,
  attachProgram,
  sectionAttachment,
  AttachError,
  type AttachKind,
  type AttachOptions,
  type Attachment,
} from "./kernel/attach.js";
