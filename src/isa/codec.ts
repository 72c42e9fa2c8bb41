import { FormatError } from "../errors.js";
import type { Instruction } from "./instruction.js";
import { slotsOf } from "./instruction.js";
import { LDDW } from "./opcodes.js";
import { checkInstruction } from "./validity.js";

/** A byte sequence that is not a valid eBPF program; `offset` is the byte offset of the bad slot. */
export class InvalidInstructionError extends FormatError {
  override name = "InvalidInstructionError";
  constructor(
    readonly reason: string,
    file: string | undefined,
    offset: number,
  ) {
    super(`instruction ${offset / 8}: ${reason}`, file, offset);
  }
}

export interface DecodeOptions {
  /** File name for error messages. */
  readonly file?: string;
  /** Check the kernel's encoding rules (default true). Off, any 8-byte slot decodes. */
  readonly validate?: boolean;
}

/** Decode bytecode into instructions. Throws InvalidInstructionError naming the offset. */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): Instruction[] {
  const { file, validate = true } = options;
  if (bytes.length % 8 !== 0)
    throw new InvalidInstructionError(
      `length ${bytes.length} is not a multiple of 8`,
      file,
      bytes.length - (bytes.length % 8),
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = [];
  for (let at = 0; at < bytes.length;) {
    const code = view.getUint8(at);
    const regs = view.getUint8(at + 1);
    let insn: Instruction = {
      code,
      dst: regs & 0x0f,
      src: regs >> 4,
      off: view.getInt16(at + 2, true),
      imm: view.getInt32(at + 4, true),
    };
    if (code === LDDW) {
      if (at + 16 > bytes.length)
        throw new InvalidInstructionError("truncated lddw (needs 16 bytes)", file, at);
      if (
        validate &&
        (view.getUint8(at + 8) !== 0 || view.getUint8(at + 9) !== 0 || view.getInt16(at + 10, true) !== 0)
      )
        throw new InvalidInstructionError(
          "second slot of lddw must have zero opcode, registers and offset",
          file,
          at,
        );
      insn = { ...insn, imm2: view.getInt32(at + 12, true) };
    }
    if (validate) {
      const problem = checkInstruction(insn);
      if (problem) throw new InvalidInstructionError(problem, file, at);
    }
    out.push(insn);
    at += 8 * slotsOf(insn);
  }
  return out;
}

/** Encode instructions into bytecode (8 bytes per slot, 16 for lddw). */
export function encode(program: readonly Instruction[]): Uint8Array {
  let slots = 0;
  for (const insn of program) slots += slotsOf(insn);
  const bytes = new Uint8Array(slots * 8);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const insn of program) {
    view.setUint8(at, insn.code);
    view.setUint8(at + 1, ((insn.src & 0x0f) << 4) | (insn.dst & 0x0f));
    view.setInt16(at + 2, insn.off, true);
    view.setInt32(at + 4, insn.imm, true);
    at += 8;
    if (insn.code === LDDW) {
      view.setInt32(at + 4, insn.imm2 ?? 0, true);
      at += 8;
    }
  }
  return bytes;
}
