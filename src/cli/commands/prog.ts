import { readFileSync } from "node:fs";
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

function parse(args: readonly string[]): { verb: string; words: string[]; json: boolean; pretty: boolean } {
  const words: string[] = [];
  let json = false;
  let pretty = false;
  for (const a of args) {
    if (a === "--json" || a === "-j") json = true;
    else if (a === "--pretty" || a === "-p") json = pretty = true;
    else if (a.startsWith("-") && a.length > 1) throw new UsageError(`unknown option '${a}'`);
    else words.push(a);
  }
  const verb = words.shift();
  if (verb === undefined) throw new UsageError("missing subcommand (list or show)");
  return { verb, words, json, pretty };
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { verb, words, json, pretty } = parse(args);
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
    throw new UsageError(`unknown subcommand '${verb}' (list or show)`);
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
  usage: "prog list|show [PROG] [--json|--pretty]   PROG: ID | id ID | name NAME | pinned PATH",
  run,
};
export default command;
