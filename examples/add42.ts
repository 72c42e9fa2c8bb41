// The program of the program-type guide: read the u32 context, add 42, return it.
// Built with the builder, run in the interpreter with a 4-byte context holding 100.
import { ProgramBuilder, R0, R1, Size, disassembleLlvm } from "../src/isa/index.js";
import { Interpreter, Memory } from "../src/vm/index.js";

const program = new ProgramBuilder()
  .ldx(Size.W, R0, R1, 0) // r0 = *(u32 *)(r1 + 0)
  .add32(R0, 42) // w0 += 42
  .exit()
  .build();

console.log(disassembleLlvm(program).join("\n"));

const memory = new Memory();
const ctx = memory.addRegion({ kind: "context", name: "ctx", bytes: Uint8Array.of(100, 0, 0, 0) });
const { r0 } = new Interpreter(program).run({ memory, registers: { r1: ctx.base } });
console.log(`r0 = ${r0}`);
