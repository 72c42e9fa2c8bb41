export * from "./opcodes.js";
export * from "./instruction.js";
export * from "./codec.js";
export { checkInstruction, OPCODE_RULES, type OpcodeRule } from "./validity.js";
export * from "./helpers.js";
