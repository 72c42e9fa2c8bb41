/** Loading whole objects (ObjectSpec) into the kernel: the KernelCollection. */
export { KernelCollection, type KernelCollectionOptions } from "./collection.js";
export {
  KernelBtf,
  BtfLoadError,
  loadBtfBlob,
  prepareObjectBtf,
  sanitizeBtfKinds,
  elfLayout,
  type SectionLayout,
  type PreparedBtf,
} from "./btf.js";
export { PinnedMapMismatchError, pinPathOf } from "./maps.js";
export { ProgramVerifierError, sourceLineAt, instructionAt } from "./describe.js";
export { KernelSymbols, attachTarget, type KernelBtfId } from "./kernel-symbols.js";
export { runKernelProgram, type ProgramRunInput, type ProgramRunOutput } from "./run.js";
