import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { assembleConformance } from "../isa/asm/conformance.js";
import { parseConformanceData } from "../isa/asm/conformance-data.js";
import { decode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { assembleLlvm } from "../isa/llvm/assemble.js";
import { UsageError } from "./command.js";

export type Syntax = "conformance" | "llvm";

export function syntaxOption(value: string | undefined): Syntax | undefined {
  if (value === undefined || value === "conformance" || value === "llvm") return value;
  throw new UsageError(`unknown syntax '${value}' (conformance or llvm)`);
}

export interface ProgramFile {
  readonly program: Instruction[];
  /** Memory given by a conformance `.data` file's `-- mem` section. */
  readonly mem?: Uint8Array;
}

/**
 * Read a program from a file, by its kind: raw bytecode (`.bin`, `.o` is not a raw file), a
 * conformance test (`.data`: its asm or raw section and its memory), or assembly text (`.s` in the
 * LLVM syntax, anything else in the conformance dialect unless `syntax` says otherwise).
 */
export async function readProgramFile(file: string, syntax?: Syntax): Promise<ProgramFile> {
  const bytes = await readFile(file);
  const ext = extname(file).toLowerCase();
  if (ext === ".bin" || ext === ".raw") return { program: decode(bytes, { file }) };
  const text = bytes.toString("utf8");
  if (ext === ".data") {
    const data = parseConformanceData(text, file);
    if (data.raw) return { program: decode(data.raw, { file }), mem: data.mem };
    if (data.asm === undefined) throw new UsageError(`${file} has neither an asm nor a raw section`);
    return { program: assembleConformance(data.asm, file), mem: data.mem };
  }
  const chosen = syntax ?? (ext === ".s" ? "llvm" : "conformance");
  return { program: chosen === "llvm" ? assembleLlvm(text, file) : assembleConformance(text, file) };
}
