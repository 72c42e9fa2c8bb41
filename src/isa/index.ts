export * from "./opcodes.js";
export * from "./instruction.js";
export * from "./codec.js";
export { checkInstruction, OPCODE_RULES, type OpcodeRule } from "./validity.js";
export * from "./helpers.js";
export { assembleConformance, CONFORMANCE_MNEMONICS } from "./asm/conformance.js";
export { parseConformanceData, type ConformanceData } from "./asm/conformance-data.js";
export {
  disassembleConformance,
  disassembleInstruction,
  DisassemblyError,
  formatImm,
  type DisassembleOptions,
} from "./disasm/conformance.js";
export {
  ProgramBuilder,
  BuildError,
  Register,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
  R9,
  R10,
  type Operand,
  type JumpTarget,
} from "./builder.js";
export * from "./llvm/index.js";
