import { readFile } from "node:fs/promises";
import { describeCoreRelo, parseBtf, parseBtfExt, type Btf, type BtfExt } from "../../btf/index.js";
import { FormatError, TsbpfError } from "../../errors.js";
import {
  ElfFile,
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_ABS64,
  R_BPF_64_NODYLD32,
  R_BPF_NONE,
  SHT_NOBITS,
  STT_FUNC,
  STT_NOTYPE,
  STT_SECTION,
  type ElfSection,
} from "../../elf/index.js";
import { decode, InvalidInstructionError } from "../../isa/codec.js";
import type { Instruction } from "../../isa/instruction.js";
import { slotIndexes } from "../../isa/instruction.js";
import { Class, JumpOp, OP_MASK, Source } from "../../isa/opcodes.js";
import { formatInstruction } from "../../isa/llvm/index.js";
import { UsageError, type Command } from "../command.js";

type Syntax = "llvm" | "verifier" | "conformance";
const SYNTAXES: readonly Syntax[] = ["llvm", "verifier", "conformance"];

interface DisasmArgs {
  readonly file: string;
  readonly syntax: Syntax;
  readonly section?: string;
  readonly alu32: boolean;
  /** Print each instruction's relocations after it, as llvm-objdump -dr. */
  readonly relocs: boolean;
}

/** R_BPF_* names, as llvm-objdump prints them. */
const RELOCATION_NAMES: Readonly<Record<number, string>> = {
  [R_BPF_NONE]: "R_BPF_NONE",
  [R_BPF_64_64]: "R_BPF_64_64",
  [R_BPF_64_ABS64]: "R_BPF_64_ABS64",
  [R_BPF_64_ABS32]: "R_BPF_64_ABS32",
  [R_BPF_64_NODYLD32]: "R_BPF_64_NODYLD32",
  [R_BPF_64_32]: "R_BPF_64_32",
};

function parseArgs(args: readonly string[]): DisasmArgs {
  let file: string | undefined;
  let syntax: Syntax = "llvm";
  let section: string | undefined;
  let alu32 = false;
  let relocs = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--syntax") {
      const v = value();
      if (!SYNTAXES.includes(v as Syntax))
        throw new UsageError(`unknown syntax '${v}' (${SYNTAXES.join(", ")})`);
      syntax = v as Syntax;
    } else if (flag === "--section" || flag === "-j") section = value();
    else if (flag === "--alu32") alu32 = true;
    else if (flag === "--reloc" || flag === "-r") relocs = true;
    else if (arg.startsWith("-")) throw new UsageError(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (file === undefined) throw new UsageError("missing FILE");
  return { file, syntax, alu32, relocs, ...(section !== undefined ? { section } : {}) };
}

/** The conformance-dialect disassembler, loaded only when asked for. */
async function conformanceText(
  program: readonly Instruction[],
  file: string,
  base: number,
): Promise<string[]> {
  const mod = await import("../../isa/disasm/conformance.js");
  try {
    return mod.disassembleConformance(program, { labels: true }).replace(/\n$/, "").split("\n");
  } catch (e) {
    if (e instanceof mod.DisassemblyError)
      throw new FormatError(e.reason, file, base + 8 * slotIndexes(program)[e.index]!, { cause: e });
    throw e;
  }
}

/** Jump displacement (in slots) of an instruction that jumps within its function, if any. */
function jumpDisplacement(insn: Instruction): number | undefined {
  const cls = insn.code & 0x07;
  if (cls !== Class.JMP && cls !== Class.JMP32) return undefined;
  const op = insn.code & OP_MASK;
  if (op === JumpOp.CALL || op === JumpOp.EXIT || (op === JumpOp.JA && (insn.code & Source.X) !== 0))
    return undefined;
  if (op === JumpOp.JA && cls === Class.JMP32) return insn.imm;
  return insn.off;
}

/** Symbols objdump names code addresses after: functions, labels and the section itself. */
function codeSymbols(elf: ElfFile, section: ElfSection): { name: string; value: number }[] {
  // The section symbol goes first so that a named symbol at the same address wins.
  return elf
    .symbolsIn(section)
    .filter((s) => s.type === STT_FUNC || s.type === STT_SECTION || (s.type === STT_NOTYPE && s.name !== ""))
    .sort((a, b) => a.value - b.value || Number(b.type === STT_SECTION) - Number(a.type === STT_SECTION))
    .map((s) => ({ name: s.type === STT_SECTION ? section.name : s.name, value: s.value }));
}

/** objdump's ` <sym+0x18>` comment for a jump target at byte offset `at`. */
function targetComment(symbols: readonly { name: string; value: number }[], at: number): string {
  let best: { name: string; value: number } | undefined;
  for (const s of symbols) if (s.value <= at && (!best || s.value >= best.value)) best = s;
  if (!best) return "";
  const rel = at - best.value;
  return rel === 0 ? ` <${best.name}>` : ` <${best.name}+0x${rel.toString(16)}>`;
}

interface Code {
  readonly name?: string;
  readonly program: Instruction[];
  /** File offset of the first instruction, for error messages. */
  readonly base: number;
  /** Function symbols by slot, for `<func>:` headers, and names for jump comments. */
  readonly labels: Map<number, string[]>;
  readonly symbols: { name: string; value: number }[];
  /** objdump's relocation lines, by the slot of the instruction they apply to. */
  readonly relocations: Map<number, string[]>;
}

function decodeAt(
  bytes: Uint8Array,
  file: string,
  base: number,
  validate: boolean,
  where?: string,
): Instruction[] {
  try {
    return decode(bytes, { file, validate });
  } catch (e) {
    if (e instanceof InvalidInstructionError)
      throw new FormatError(`${where ? `section ${where}: ` : ""}${e.reason}`, file, base + (e.offset ?? 0), {
        cause: e,
      });
    throw e;
  }
}

/** The object's BTF and .BTF.ext, for its CO-RE relocations (none without them). */
function coreRelocations(elf: ElfFile, file: string): { btf: Btf; ext: BtfExt } | undefined {
  const btfSection = elf.section(".BTF");
  const extSection = elf.section(".BTF.ext");
  if (!btfSection || !extSection) return undefined;
  const btf = parseBtf(btfSection.data, { file: `${file}(.BTF)` });
  return { btf, ext: parseBtfExt(extSection.data, btf, { file: `${file}(.BTF.ext)` }) };
}

function codeOf(bytes: Uint8Array, file: string, args: DisasmArgs): Code[] {
  const validate = args.syntax === "conformance";
  const isElf =
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) {
    if (args.section !== undefined) throw new TsbpfError(`${file}: --section needs an ELF object`);
    return [
      {
        program: decodeAt(bytes, file, 0, validate),
        base: 0,
        labels: new Map(),
        symbols: [],
        relocations: new Map(),
      },
    ];
  }
  const elf = ElfFile.parse(bytes, file);
  const core = args.relocs ? coreRelocations(elf, file) : undefined;
  let sections = elf.executableSections.filter((s) => s.type !== SHT_NOBITS && s.size > 0);
  if (args.section !== undefined) {
    sections = sections.filter((s) => s.name === args.section);
    if (sections.length === 0) throw new TsbpfError(`${file}: no executable section '${args.section}'`);
  }
  return sections.map((s) => {
    const labels = new Map<number, string[]>();
    for (const sym of elf.symbolsIn(s))
      if ((sym.type === STT_FUNC || sym.type === STT_NOTYPE) && sym.name !== "" && sym.value % 8 === 0)
        labels.set(sym.value / 8, [...(labels.get(sym.value / 8) ?? []), sym.name]);
    const relocations = new Map<number, string[]>();
    if (args.relocs)
      for (const r of elf.relocationsFor(s)) {
        const slot = Math.floor(r.offset / 8);
        // a section symbol is named after its section
        const target =
          r.symbol.type === STT_SECTION ? (elf.sections[r.symbol.sectionIndex]?.name ?? "") : r.symbol.name;
        const addend = r.addend ? `+0x${r.addend.toString(16)}` : "";
        relocations.set(slot, [
          ...(relocations.get(slot) ?? []),
          `\t\t${r.offset.toString(16).padStart(16, "0")}:  ${RELOCATION_NAMES[r.type] ?? `unknown(${r.type})`}\t${target}${addend}`,
        ]);
      }
    // then the CO-RE relocations of .BTF.ext, as llvm-objdump -dr
    for (const r of core?.ext.coreRelos.get(s.name) ?? []) {
      const slot = Math.floor(r.insnOff / 8);
      relocations.set(slot, [
        ...(relocations.get(slot) ?? []),
        `\t\t${r.insnOff.toString(16).padStart(16, "0")}:  CO-RE ${describeCoreRelo(core!.btf, r)}`,
      ]);
    }
    return {
      name: s.name,
      program: decodeAt(s.data, file, s.offset, validate, s.name),
      base: s.offset,
      labels,
      symbols: codeSymbols(elf, s),
      relocations,
    };
  });
}

async function render(code: Code, file: string, args: DisasmArgs): Promise<string[]> {
  if (args.syntax === "conformance") return conformanceText(code.program, file, code.base);
  const lines: string[] = [];
  const slots = slotIndexes(code.program);
  code.program.forEach((insn, i) => {
    const slot = slots[i]!;
    for (const name of code.labels.get(slot) ?? []) {
      if (lines.length) lines.push("");
      lines.push(`${(slot * 8).toString(16).padStart(16, "0")} <${name}>:`);
    }
    let text = formatInstruction(insn, {
      syntax: args.syntax === "verifier" ? "verifier" : "llvm",
      alu32: args.alu32,
    });
    const d = jumpDisplacement(insn);
    if (d !== undefined && args.syntax === "llvm" && code.symbols.length) {
      const comment = targetComment(code.symbols, (slot + 1 + d) * 8);
      const semi = text.indexOf(" ; ");
      text = semi < 0 ? text + comment : text.slice(0, semi) + comment + text.slice(semi);
    }
    lines.push(`${String(slot).padStart(8)}:\t${text}`);
    lines.push(...(code.relocations.get(slot) ?? []));
  });
  return lines;
}

const command: Command = {
  usage: "disasm FILE|OBJ.o [--syntax llvm|verifier|conformance] [--section NAME] [--alu32] [-r|--reloc]",
  async run(args, io) {
    const parsed = parseArgs(args);
    const { file } = parsed;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TsbpfError(
        `${file}: cannot read (${code === "ENOENT" ? "no such file" : (code ?? String(e))})`,
      );
    }
    const out: string[] = [];
    for (const code of codeOf(bytes, file, parsed)) {
      if (code.name !== undefined)
        out.push(`${out.length ? "\n" : ""}Disassembly of section ${code.name}:`, "");
      out.push(...(await render(code, file, parsed)));
    }
    if (out.length) io.out(out.join("\n"));
    return 0;
  },
};

export default command;
