import { readFileSync } from "node:fs";
import { bpftoolTypeName, parseBtf, type Btf } from "../../btf/index.js";
import { decode } from "../../isa/codec.js";
import { helperByName } from "../../isa/helpers.js";
import type { Instruction } from "../../isa/instruction.js";
import { formatInstruction } from "../../isa/llvm/index.js";
import { Class, JumpOp, LDDW, PseudoCall, PseudoLd } from "../../isa/opcodes.js";
import { SyscallError } from "../../kernel/errors.js";
import { KernelProgram } from "../../kernel/program.js";
import {
  btfGetFdById,
  closeFd,
  getBtfInfo,
  getProgramInfo,
  readFdInfo,
  type ProgramInfo,
  type ProgramLineInfo,
} from "../../kernel/sys/index.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/**
 * `tsbpf prog list` / `tsbpf prog show PROG`: the programs loaded in the kernel, printed like
 * `bpftool prog`. PROG is an id, `id N`, `name NAME`, `pinned PATH` or a path.
 */

/** Boot time (CLOCK_BOOTTIME origin) in ms since the epoch, to turn load times into dates. */
function bootEpochMs(): number {
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Date.now() - uptime * 1000;
}

/** What bpftool's `prog show` prints, as a JSON-ready record. */
export interface ProgRecord {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited: number;
  bytes_memlock?: number;
  map_ids: number[];
  btf_id?: number;
  run_time_ns?: number;
  run_cnt?: number;
  verified_insns: number;
}

function record(info: ProgramInfo, fd: number, bootMs: number): ProgRecord {
  const memlock = readFdInfo(fd).memlock;
  return {
    id: info.id,
    type: info.typeName,
    name: info.name,
    tag: info.tag,
    gpl_compatible: info.gplCompatible,
    loaded_at: Math.floor((bootMs + Number(info.loadTime / 1_000_000n)) / 1000),
    uid: info.createdByUid,
    bytes_xlated: info.xlatedSize,
    jited: info.jitedSize > 0,
    bytes_jited: info.jitedSize,
    ...(memlock !== undefined ? { bytes_memlock: Number(memlock) } : {}),
    map_ids: [...info.mapIds],
    ...(info.btfId ? { btf_id: info.btfId } : {}),
    ...(info.runCount ? { run_time_ns: Number(info.runTimeNs), run_cnt: Number(info.runCount) } : {}),
    verified_insns: info.verifiedInsns,
  };
}

/** ISO 8601 like bpftool: 2026-11-22T00:05:12+0000 (UTC). */
const date = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "+0000");

/** bpftool's three-line text form of a program. */
export function formatProg(r: ProgRecord): string {
  const lines = [
    `${r.id}: ${r.type}  ${r.name ? `name ${r.name}  ` : ""}tag ${r.tag}${r.gpl_compatible ? "  gpl" : ""}`,
    `\tloaded_at ${date(r.loaded_at)}  uid ${r.uid}`,
    `\txlated ${r.bytes_xlated}B  ${r.jited ? `jited ${r.bytes_jited}B` : "not jited"}` +
      `${r.bytes_memlock !== undefined ? `  memlock ${r.bytes_memlock}B` : ""}` +
      `${r.map_ids.length ? `  map_ids ${r.map_ids.join(",")}` : ""}`,
  ];
  if (r.btf_id) lines.push(`\tbtf_id ${r.btf_id}`);
  if (r.run_cnt) lines.push(`\trun_time_ns ${r.run_time_ns}  run_cnt ${r.run_cnt}`);
  return lines.join("\n");
}

/** Opens the program a selector names. */
export function openProgram(words: readonly string[]): KernelProgram {
  const [first, second] = words;
  if (first === undefined) throw new UsageError("missing PROG (an id, 'id N', 'name NAME' or 'pinned PATH')");
  const extra = (n: number) => {
    if (words.length > n) throw new UsageError(`unexpected argument '${words[n]}'`);
  };
  if (first === "id" || first === "name" || first === "pinned") {
    if (second === undefined) throw new UsageError(`'${first}' needs a value`);
    extra(2);
    if (first === "name") return KernelProgram.fromName(second);
    if (first === "pinned") return KernelProgram.fromPin(second);
    if (!/^\d+$/.test(second)) throw new UsageError(`bad program id '${second}'`);
    return KernelProgram.fromId(Number(second));
  }
  extra(1);
  if (/^\d+$/.test(first)) return KernelProgram.fromId(Number(first));
  if (first.startsWith("/")) return KernelProgram.fromPin(first);
  return KernelProgram.fromName(first);
}

/** Records of every loaded program (those that vanish while listing are skipped). */
function listPrograms(): ProgRecord[] {
  const boot = bootEpochMs();
  const out: ProgRecord[] = [];
  for (const id of KernelProgram.ids()) {
    let prog: KernelProgram;
    try {
      prog = KernelProgram.fromId(id);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === 2) continue;
      throw e;
    }
    try {
      out.push(record(getProgramInfo(prog.fd), prog.fd, boot));
    } finally {
      prog.close();
    }
  }
  return out;
}

/** Disassembly syntaxes of `prog dump xlated`. */
const SYNTAXES = ["verifier", "llvm"] as const;
type Syntax = (typeof SYNTAXES)[number];

/** Whether this dump has read /proc/kallsyms again for programs loaded after the first read. */
let kallsymsReread = false;

/** Kernel symbol names by address (/proc/kallsyms), read once, for the helpers of xlated code. */
let kallsyms: { base: bigint | undefined; names: Map<bigint, string> } | undefined;
function kernelSymbols(): { base: bigint | undefined; names: Map<bigint, string> } {
  if (kallsyms) return kallsyms;
  const names = new Map<bigint, string>();
  let base: bigint | undefined;
  let text = "";
  try {
    text = readFileSync("/proc/kallsyms", "utf8");
  } catch {
    // no symbols: calls print their raw immediates
  }
  for (const line of text.split("\n")) {
    const [addr, , name] = line.split(" ");
    if (!addr || !name || /^0+$/.test(addr)) continue;
    const a = BigInt(`0x${addr}`);
    if (name === "__bpf_call_base") base = a;
    if (!names.has(a)) names.set(a, name.split("\t")[0]!);
  }
  return (kallsyms = { base, names });
}

/** One line of an xlated dump, with bpftool's JSON fields from BTF where the program has them. */
export interface XlatedLine {
  /** Instruction index (lddw takes two). */
  pc: number;
  /** The instruction's bytes, hex. */
  raw: string;
  disasm: string;
  /** The prototype of the function starting here ("int f(struct xdp_md * ctx)"). */
  proto?: string;
  /** The source line starting here (leading blanks removed), and with `linum` where it is. */
  src?: string;
  file?: string;
  line_num?: number;
  line_col?: number;
}

/** What a program's BTF says about its instructions (BPF_OBJ_GET_INFO_BY_FD with func/line info). */
export interface XlatedSource {
  readonly btf: Btf;
  readonly funcInfo: readonly { readonly insnOff: number; readonly typeId: number }[];
  readonly lineInfo: readonly ProgramLineInfo[];
  /** Also give each source line's file, line and column (bpftool's `linum`). */
  readonly linum?: boolean;
}

/**
 * The kernel's translated instructions of a program in verifier (bpftool) or LLVM syntax. As in
 * bpftool, helper calls (whose immediates the kernel turned into offsets from __bpf_call_base)
 * are named from /proc/kallsyms, map loads print as map[id:N] / map[id:N][0]+OFF, and with the
 * program's BTF each function's prototype and each source line come before their first instruction.
 */
export function dumpXlated(
  bytes: Uint8Array,
  syntax: Syntax,
  source?: XlatedSource,
  jitedKsyms: readonly bigint[] = [],
): XlatedLine[] {
  const program = decode(bytes, { file: "xlated", validate: false });
  kallsymsReread = false;
  const funcs = new Map(source?.funcInfo.map((f) => [f.insnOff, f.typeId]));
  const lines = new Map(source?.lineInfo.map((l) => [l.insnOff, l]));
  const text = (off: number): string => source!.btf.strings.get(off);
  const out: XlatedLine[] = [];
  let pc = 0;
  for (const insn of program) {
    const slots = insn.code === LDDW ? 2 : 1;
    const raw = Buffer.from(bytes.subarray(pc * 8, (pc + slots) * 8)).toString("hex");
    const line: XlatedLine = { pc, raw, disasm: xlatedText(insn, syntax, jitedKsyms) };
    const func = funcs.get(pc);
    if (func !== undefined) line.proto = bpftoolTypeName(source!.btf, func);
    const l = lines.get(pc);
    if (l) {
      line.src = text(l.lineOff).trimStart();
      if (source!.linum) {
        line.file = text(l.fileNameOff);
        line.line_num = l.lineNumber;
        line.line_col = l.column;
      }
    }
    out.push(line);
    pc += slots;
  }
  return out;
}

/** bpftool's text: "PROTO:", "; SRC [file:F line_num:N line_col:C]", "  PC: (op) insn". */
export function formatXlated(lines: readonly XlatedLine[]): string {
  return lines
    .flatMap((l) => [
      ...(l.proto !== undefined ? [`${l.proto}:`] : []),
      ...(l.src !== undefined
        ? [
            `; ${l.src}${l.file !== undefined ? ` [file:${l.file} line_num:${l.line_num} line_col:${l.line_col}]` : ""}`,
          ]
        : []),
      `${String(l.pc).padStart(4)}: ${l.disasm}`,
    ])
    .join("\n");
}

/** The program's BTF and func/line info, when it was loaded with BTF. */
function programSource(fd: number, linum: boolean): XlatedSource | undefined {
  const info = getProgramInfo(fd, { btfInfo: true });
  if (!info.btfId) return undefined;
  const btfFd = btfGetFdById(info.btfId);
  try {
    const data = getBtfInfo(btfFd, true).data!;
    return { btf: parseBtf(data), funcInfo: info.funcInfo ?? [], lineInfo: info.lineInfo ?? [], linum };
  } finally {
    closeFd(btfFd);
  }
}

function xlatedText(insn: Instruction, syntax: Syntax, jitedKsyms: readonly bigint[]): string {
  const prefix = syntax === "verifier" ? `(${insn.code.toString(16).padStart(2, "0")}) ` : "";
  const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
  if (insn.code === LDDW && (insn.src === PseudoLd.MAP_FD || insn.src === PseudoLd.MAP_VALUE)) {
    // the kernel reports the map's id
    const value =
      insn.src === PseudoLd.MAP_FD ? `map[id:${insn.imm}]` : `map[id:${insn.imm}][0]+${insn.imm2 ?? 0}`;
    return `${prefix}r${insn.dst} = ${value}`;
  }
  if (insn.code === LDDW && insn.src === PseudoLd.FUNC && syntax === "verifier")
    return `${prefix}r${insn.dst} = subprog[${signed(insn.imm)}]`;
  if (insn.code === (Class.JMP | JumpOp.CALL) && syntax === "verifier") {
    const { base, names } = kernelSymbols();
    if (insn.src === PseudoCall.CALL) {
      // After the JIT the kernel keeps the relative offset in `off` and the subprogram's index in
      // `imm`: bpftool names the callee from the JITed functions' addresses.
      const address = jitedKsyms[insn.imm];
      // programs loaded after the symbols were read are not in them yet: read them again
      let name = address !== undefined ? names.get(address) : undefined;
      if (address !== undefined && name === undefined && !kallsymsReread) {
        kallsymsReread = true;
        kallsyms = undefined;
        name = kernelSymbols().names.get(address);
      }
      const target = address === undefined ? "" : `#${name ?? `0x${address.toString(16)}`}`;
      return `${prefix}call pc${signed(insn.off)}${target}`;
    }
    // helpers and kfuncs: an offset from __bpf_call_base, named from /proc/kallsyms
    const name = base !== undefined ? names.get(base + BigInt(insn.imm)) : undefined;
    if (name !== undefined) return `${prefix}call ${name}#${insn.imm}`;
  }
  if (insn.code === (Class.JMP | JumpOp.CALL) && insn.src === PseudoCall.HELPER) {
    // LLVM syntax wants the helper's id
    const { base, names } = kernelSymbols();
    const name = base !== undefined ? names.get(base + BigInt(insn.imm)) : undefined;
    const helper = name !== undefined ? helperByName(name) : undefined;
    if (helper) return formatInstruction({ ...insn, imm: helper.id }, { syntax, annotate: false });
  }
  return formatInstruction(insn, { syntax, annotate: false });
}

function parse(args: readonly string[]): {
  verb: string;
  words: string[];
  json: boolean;
  pretty: boolean;
  syntax: Syntax;
} {
  const words: string[] = [];
  let json = false;
  let pretty = false;
  let syntax: Syntax = "verifier";
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--syntax" || a.startsWith("--syntax=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (!SYNTAXES.includes(v as Syntax)) throw new UsageError(`--syntax must be ${SYNTAXES.join(" or ")}`);
      syntax = v as Syntax;
    } else if (a === "--json" || a === "-j") json = true;
    else if (a === "--pretty" || a === "-p") json = pretty = true;
    else if (a.startsWith("-") && a.length > 1) throw new UsageError(`unknown option '${a}'`);
    else words.push(a);
  }
  const verb = words.shift();
  if (verb === undefined) throw new UsageError("missing subcommand (list, show or dump)");
  return { verb, words, json, pretty, syntax };
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { verb, words, json, pretty, syntax } = parse(args);
  const print = (value: unknown) => io.out(JSON.stringify(value, null, pretty ? 2 : undefined));
  try {
    if (verb === "list" || (verb === "show" && words.length === 0)) {
      if (words.length) throw new UsageError(`unexpected argument '${words[0]}'`);
      const all = listPrograms();
      if (json) print(all);
      else if (all.length) io.out(all.map(formatProg).join("\n"));
      return 0;
    }
    if (verb === "show") {
      const prog = openProgram(words);
      try {
        const r = record(getProgramInfo(prog.fd), prog.fd, bootEpochMs());
        if (json) print(r);
        else io.out(formatProg(r));
      } finally {
        prog.close();
      }
      return 0;
    }
    if (verb === "dump") {
      const [what, ...rest] = words;
      if (what !== "xlated")
        throw new UsageError(`prog dump ${what ?? ""}: only 'xlated' is supported`.trim());
      // bpftool's trailing keyword: source file, line and column of each line
      const linum = rest.at(-1) === "linum";
      const selector = linum ? rest.slice(0, -1) : rest;
      const prog = openProgram(selector);
      try {
        const info = getProgramInfo(prog.fd, { xlated: true, jitedKsyms: true });
        const lines = dumpXlated(
          info.xlatedInsns ?? new Uint8Array(0),
          syntax,
          programSource(prog.fd, linum),
          info.jitedKsyms,
        );
        if (json) print(lines);
        else io.out(formatXlated(lines));
      } finally {
        prog.close();
      }
      return 0;
    }
    throw new UsageError(`unknown subcommand '${verb}' (list, show or dump)`);
  } catch (e) {
    // Kernel refusals are runtime faults (exit 1); bad selectors stay input errors (exit 2).
    if (e instanceof SyscallError) {
      io.err(`tsbpf prog: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const command: Command = {
  usage:
    "prog list|show [PROG] | dump xlated PROG [linum] [--syntax verifier|llvm]  [--json|--pretty]   PROG: ID | id ID | name NAME | pinned PATH",
  run,
};
export default command;
