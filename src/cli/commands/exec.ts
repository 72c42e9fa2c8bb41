import { readFile } from "node:fs/promises";
import { disassembleInstruction } from "../../isa/disasm/conformance.js";
import { formatLlvmInstruction } from "../../isa/llvm/format.js";
import type { Instruction } from "../../isa/instruction.js";
import { VmFault } from "../../vm/fault.js";
import { Interpreter } from "../../vm/interpreter.js";
import { Memory } from "../../vm/memory.js";
import type { TraceEvent } from "../../vm/trace.js";
import { conformanceHelpers } from "../../vm/conformance/runner.js";
import { hexBytes, integerOption, parseCommandArgs } from "../args.js";
import { UsageError, type Command } from "../command.js";
import { readProgramFile, syntaxOption, type Syntax } from "../program-file.js";

const hex = (v: bigint) => `0x${v.toString(16)}`;

function traceLine(e: TraceEvent, syntax: Syntax): string {
  const insn: Instruction | undefined = e.instruction;
  const text = insn
    ? syntax === "llvm"
      ? formatLlvmInstruction(insn)
      : disassembleInstruction(insn)
    : "<end>";
  const changes = e.changes.map((c) => `r${c.register} ${hex(c.before)} -> ${hex(c.after)}`).join(", ");
  const indent = "  ".repeat(e.depth);
  return `${String(e.count).padStart(6)} ${String(e.pc).padStart(5)}: ${indent}${text.padEnd(34 - indent.length)}${changes}`;
}

/**
 * `tsbpf exec FILE`: run bytecode or assembly in the interpreter with the conformance suite's
 * conventions (r1 = memory, r2 = its length, helper 5 = unwind) and print r0.
 */
const exec: Command = {
  usage:
    "exec FILE [--mem HEX | --mem-file F] [--trace] [--syntax conformance|llvm] [--budget N]\n" +
    "  FILE: .bin bytecode, .data conformance test, .s LLVM assembly, other text = conformance assembly",
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      mem: { type: "string" },
      "mem-file": { type: "string" },
      trace: { type: "boolean" },
      syntax: { type: "string" },
      budget: { type: "string" },
    });
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError("missing FILE");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (values.mem !== undefined && values["mem-file"] !== undefined)
      throw new UsageError("give --mem or --mem-file, not both");
    const syntax = syntaxOption(values.syntax) ?? (file.endsWith(".s") ? "llvm" : "conformance");
    const { program, mem: fileMem } = await readProgramFile(file, syntaxOption(values.syntax));
    const mem =
      values.mem !== undefined
        ? hexBytes("--mem", values.mem)
        : values["mem-file"] !== undefined
          ? new Uint8Array(await readFile(values["mem-file"]))
          : (fileMem ?? new Uint8Array(0));
    const budget = integerOption("budget", values.budget, 1_000_000);

    const interpreter = new Interpreter(program, { helpers: conformanceHelpers(), budget, name: file });
    const memory = new Memory();
    const region = memory.addRegion({ kind: "context", name: "memory", bytes: mem });
    const trace = values.trace ? (e: TraceEvent) => io.out(traceLine(e, syntax)) : undefined;
    try {
      const result = interpreter.run({
        memory,
        registers: { r1: mem.length > 0 ? region.base : 0n, r2: BigInt(mem.length) },
        ...(trace ? { trace } : {}),
      });
      io.out(`r0 = ${hex(result.r0)} (${BigInt.asIntN(64, result.r0)})`);
      io.out(`${result.instructions} instructions executed`);
      return 0;
    } catch (e) {
      if (e instanceof VmFault) {
        io.err(`tsbpf exec: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
};
export default exec;
