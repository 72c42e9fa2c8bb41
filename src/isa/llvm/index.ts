export { assembleLlvm, parseInstructionText } from "./assemble.js";
export {
  disassembleLlvm,
  formatInstruction,
  fieldAnnotation,
  type LlvmDisassemblyOptions,
} from "./disassemble.js";
export { formatLlvmInstruction, UNKNOWN } from "./format.js";
export { formatVerifierInstruction } from "./verifier-format.js";
