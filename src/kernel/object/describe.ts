/**
 * Turning a verifier rejection into one line a C programmer can act on: the verifier's reason,
 * the failing instruction as llvm-objdump prints it, the C source line from BTF line_info
 * ("xdp_prog.c:42: return *p;"), a hint for known causes, and how much of the log was left out.
 */
import type { Instruction } from "../../isa/index.js";
import { formatLlvmInstruction, slotIndexes } from "../../isa/index.js";
import type { ProgramSpec } from "../../object/index.js";
import { describeErrno, VerifierError, type InsnDescriber } from "../errors.js";

/** The source line of the instruction at `slot`: the last line_info record at or before it. */
export function sourceLineAt(prog: ProgramSpec, slot: number): string | undefined {
  // line_info counts bytes in the linked program.
  const at = slot * 8;
  let best: ProgramSpec["lineInfo"][number] | undefined;
  for (const li of prog.lineInfo) if (li.insnOff <= at && (!best || li.insnOff >= best.insnOff)) best = li;
  if (!best) return undefined;
  // The line_info of a slot belongs to the function it is in: do not borrow the previous one's.
  const fn = prog.functions.filter((f) => f.slot <= slot).at(-1);
  if (fn && best.insnOff < fn.slot * 8) return undefined;
  const file = best.fileName.replace(/^\.\//, "");
  return `${file}:${best.lineNumber}: ${best.line.trim()}`;
}

/** The instruction at slot `slot` of `insns`, disassembled like llvm-objdump; undefined between slots. */
export function instructionAt(insns: readonly Instruction[], slot: number): string | undefined {
  const slots = slotIndexes(insns);
  const i = slots.indexOf(slot);
  if (i < 0 || i >= insns.length) return undefined;
  return formatLlvmInstruction(insns[i]!, true);
}

/** A describer for KernelProgram.load: the C source line of a slot. */
export function lineDescriber(prog: ProgramSpec): InsnDescriber {
  return (slot) => sourceLineAt(prog, slot);
}

/**
 * A verifier rejection of a program of an object. Keeps the whole log (`log`), the parsed
 * `details`, and a one-line message: reason, instruction, source line, hint.
 */
export class ProgramVerifierError extends VerifierError {
  override name = "ProgramVerifierError";
  /** The failing instruction as llvm-objdump prints it. */
  readonly instruction: string | undefined;
  /** "file.c:42: return *p;" */
  readonly sourceLine: string | undefined;

  constructor(
    readonly program: ProgramSpec,
    insns: readonly Instruction[],
    cause: VerifierError,
    file: string | undefined,
  ) {
    super(cause.programName, cause.errno, cause.log, { truncated: cause.truncated, cause });
    const d = cause.details;
    this.instruction = d.insnIndex === undefined ? undefined : instructionAt(insns, d.insnIndex);
    this.sourceLine = d.insnIndex === undefined ? d.source : (sourceLineAt(program, d.insnIndex) ?? d.source);
    const where =
      d.insnIndex === undefined
        ? ""
        : ` at insn ${d.insnIndex}${this.instruction ? ` \`${this.instruction}\`` : d.insn ? ` \`${d.insn}\`` : ""}`;
    const src = this.sourceLine ? ` (${this.sourceLine})` : "";
    const hint = d.hint ? `; hint: ${d.hint}` : "";
    const more = d.omittedLines
      ? ` [${d.omittedLines} more log line(s) in .log${cause.truncated ? ", truncated" : ""}]`
      : "";
    const from = file ? ` of ${file}` : "";
    this.message = `program '${program.name}' (${program.section})${from}: verifier rejected it (${describeErrno(cause.errno)[0]}): ${d.reason}${where}${src}${hint}${more}`;
  }
}
