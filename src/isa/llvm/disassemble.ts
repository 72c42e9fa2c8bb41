import type { Instruction } from "../instruction.js";
import { LDDW } from "../opcodes.js";
import { parseInstructionText } from "./assemble.js";
import { formatLlvmInstruction } from "./format.js";
import { hex } from "./syntax.js";
import { formatVerifierInstruction } from "./verifier-format.js";

export interface LlvmDisassemblyOptions {
  /**
   * "llvm" (default): exactly what `llvm-objdump-19 -d --no-show-raw-insn` prints.
   * "verifier": the kernel's verifier-log / `bpftool prog dump xlated` form, `(b7) r0 = 42`.
   */
  readonly syntax?: "llvm" | "verifier";
  /** Print as llvm-objdump --mcpu=v3 and newer (`w` registers for 32-bit memory access); default false. */
  readonly alu32?: boolean;
  /**
   * Append `; field=value` where the text alone does not determine the encoding (default true),
   * so that assembleLlvm gives back the same bytes: llvm-objdump prints `call -0x1` for helper,
   * BPF-to-BPF and kfunc calls alike, omits the second immediate of `ld_pseudo`, ignores fields
   * the instruction does not use, and prints `<unknown>` for what it cannot decode.
   */
  readonly annotate?: boolean;
}

const FIELDS = ["code", "dst", "src", "off", "imm", "imm2"] as const;

function fieldText(name: (typeof FIELDS)[number], value: number): string {
  if (name === "code") return `code=0x${value.toString(16).padStart(2, "0")}`;
  if (name === "dst" || name === "src") return `${name}=${value}`;
  return `${name}=${hex(value)}`;
}

/** The `; field=value` comment that makes `text` reassemble to `insn`, or "" when none is needed. */
export function fieldAnnotation(insn: Instruction, text: string): string {
  const parsed = parseInstructionText(text);
  const want: Instruction = insn.code === LDDW ? { ...insn, imm2: insn.imm2 ?? 0 } : insn;
  const diffs: string[] = [];
  for (const name of FIELDS) {
    const a = want[name];
    if (a === undefined) continue;
    if (parsed === undefined || parsed[name] !== a) diffs.push(fieldText(name, a));
  }
  return diffs.length ? ` ; ${diffs.join(" ")}` : "";
}

/** One instruction in LLVM (or verifier-log) syntax. */
export function formatInstruction(insn: Instruction, options: LlvmDisassemblyOptions = {}): string {
  const text =
    options.syntax === "verifier"
      ? formatVerifierInstruction(insn)
      : formatLlvmInstruction(insn, options.alu32);
  return options.annotate === false ? text : text + fieldAnnotation(insn, text);
}

/**
 * Disassemble a program into one line per instruction (lddw is one line), in the syntax of
 * llvm-objdump-19 (`r0 = *(u32 *)(r1 + 0x10)`, `if r3 == 0x0 goto +0x1`) or of the verifier log.
 * Jump offsets stay numeric; no addresses are printed.
 */
export function disassembleLlvm(
  program: readonly Instruction[],
  options: LlvmDisassemblyOptions = {},
): string[] {
  return program.map((insn) => formatInstruction(insn, options));
}
