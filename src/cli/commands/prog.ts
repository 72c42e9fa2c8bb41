import { readFileSync } from "node:fs";
import { decode } from "../../isa/codec.js";
import { helperByName } from "../../isa/helpers.js";
import type { Instruction } from "../../isa/instruction.js";
import { formatInstruction } from "../../isa/llvm/index.js";
import { Class, JumpOp, LDDW } from "../../isa/opcodes.js";
import { SyscallError } from "../../kernel/errors.js";
import { KernelProgram } from "../../kernel/program.js";
import { getProgramInfo, readFdInfo, type ProgramInfo } from "../../kernel/sys/index.js";
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

/** One line of an xlated dump. */
export interface XlatedLine {
  /** Instruction index (lddw takes two). */
  pc: number;
  /** The instruction's bytes, hex. */
  raw: string;
  disasm: string;
}

/**
 * The kernel's translated instructions of a program in verifier (bpftool) or LLVM syntax. As in
 * bpftool, helper calls (whose immediates the kernel turned into offsets from __bpf_call_base)
 * are named from /proc/kallsyms, and map loads print as map[id:N] / map[id:N][0]+OFF.
 */
export function dumpXlated(bytes: Uint8Array, syntax: Syntax): XlatedLine[] {
  const program = decode(bytes, { file: "xlated", validate: false });
  const out: XlatedLine[] = [];
  let pc = 0;
  for (const insn of program) {
    const slots = insn.code === LDDW ? 2 : 1;
    const raw = Buffer.from(bytes.subarray(pc * 8, (pc + slots) * 8)).toString("hex");
    out.push({ pc, raw, disasm: xlatedText(insn, syntax) });
    pc += slots;
  }
  return out;
}

function xlatedText(insn: Instruction, syntax: Syntax): string {
  const prefix = syntax === "verifier" ? `(${insn.code.toString(16).padStart(2, "0")}) ` : "";
  if (insn.code === LDDW && (insn.src === 1 || insn.src === 2)) {
    // BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE: the kernel reports the map's id
    const value = insn.src === 1 ? `map[id:${insn.imm}]` : `map[id:${insn.imm}][0]+${insn.imm2 ?? 0}`;
    return `${prefix}r${insn.dst} = ${value}`;
  }
  if (insn.code === (Class.JMP | JumpOp.CALL) && insn.src === 0) {
    const { base, names } = kernelSymbols();
    const name = base !== undefined ? names.get(base + BigInt(insn.imm)) : undefined;
    // bpftool prints the name with the raw offset; LLVM syntax wants the helper's id.
    if (name !== undefined && syntax === "verifier") return `${prefix}call ${name}#${insn.imm}`;
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
      const [what, ...selector] = words;
      if (what !== "xlated")
        throw new UsageError(`prog dump ${what ?? ""}: only 'xlated' is supported`.trim());
      const prog = openProgram(selector);
      try {
        const info = getProgramInfo(prog.fd, { xlated: true });
        const lines = dumpXlated(info.xlatedInsns ?? new Uint8Array(0), syntax);
        if (json) print(lines);
        else
          io.out(
            [
              `${info.name || `prog_${info.id}`}:`,
              ...lines.map((l) => `${String(l.pc).padStart(4)}: ${l.disasm}`),
            ].join("\n"),
          );
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
    "prog list|show [PROG] | dump xlated PROG [--syntax verifier|llvm]  [--json|--pretty]   PROG: ID | id ID | name NAME | pinned PATH",
  run,
};
export default command;
