import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { NotSupportedError, ParseError, TsbpfError } from "../../errors.js";
import { assembleConformance } from "../../isa/asm/conformance.js";
import { parseConformanceData } from "../../isa/asm/conformance-data.js";
import { encode } from "../../isa/codec.js";
import type { Instruction } from "../../isa/instruction.js";
import { UsageError, type Command } from "../command.js";

type Syntax = "conformance" | "llvm";
const SYNTAXES: readonly Syntax[] = ["conformance", "llvm"];

interface AsmArgs {
  readonly file: string;
  readonly out?: string;
  readonly syntax?: Syntax;
}

function parseArgs(args: readonly string[]): AsmArgs {
  let file: string | undefined;
  let out: string | undefined;
  let syntax: Syntax | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "-o" || flag === "--output") out = value();
    else if (flag === "--syntax") {
      const v = value();
      if (!SYNTAXES.includes(v as Syntax))
        throw new UsageError(`unknown syntax '${v}' (conformance or llvm)`);
      syntax = v as Syntax;
    } else if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (file === undefined) throw new UsageError("missing FILE");
  return { file, ...(out !== undefined ? { out } : {}), ...(syntax ? { syntax } : {}) };
}

/** The llvm-syntax assembler, loaded only when asked for (a non-literal specifier keeps it optional). */
async function assembleLlvm(text: string, file: string): Promise<Instruction[]> {
  const specifier = "../../isa/llvm/assemble.js";
  let mod: { assembleLlvm?: (text: string, file?: string) => Instruction[] };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    throw new NotSupportedError("llvm assembly syntax", "its assembler is not available in this build", {
      cause: e,
    });
  }
  if (typeof mod.assembleLlvm !== "function")
    throw new NotSupportedError("llvm assembly syntax", "its assembler exports no assembleLlvm");
  return mod.assembleLlvm(text, file);
}

async function assemble(text: string, file: string, syntax: Syntax): Promise<Instruction[]> {
  if (syntax === "llvm") return assembleLlvm(text, file);
  if (extname(file) === ".data") {
    const { asm } = parseConformanceData(text, file);
    if (asm === undefined) throw new ParseError("no '-- asm' section", file, undefined);
    return assembleConformance(asm, file);
  }
  return assembleConformance(text, file);
}

/** Bytecode as hex, one 8-byte slot per line (the notation of conformance `-- raw` sections). */
function hexLines(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 8)
    lines.push(Array.from(bytes.subarray(at, at + 8), (b) => b.toString(16).padStart(2, "0")).join(" "));
  return lines.join("\n");
}

const command: Command = {
  usage: "asm FILE [-o OUT] [--syntax conformance|llvm]",
  async run(args, io) {
    const { file, out, syntax } = parseArgs(args);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TsbpfError(
        `${file}: cannot read (${code === "ENOENT" ? "no such file" : (code ?? String(e))})`,
      );
    }
    const program = await assemble(text, file, syntax ?? (extname(file) === ".s" ? "llvm" : "conformance"));
    const bytes = encode(program);
    if (out === "-") {
      if (bytes.length) io.out(hexLines(bytes));
      return 0;
    }
    const target = out ?? file.slice(0, file.length - extname(file).length) + ".bin";
    try {
      await writeFile(target, bytes);
    } catch (e) {
      io.err(`tsbpf asm: ${target}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      return 1;
    }
    return 0;
  },
};

export default command;
