import { SyscallError } from "../../kernel/errors.js";
import { openPinnedLink, RawLink } from "../../kernel/links/link.js";
import { objPin, type LinkInfo } from "../../kernel/sys/index.js";
import { NotSupportedError } from "../../errors.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/**
 * `tsbpf link list|show [ID]|detach ID|pin ID PATH`: the BPF links of the kernel, printed like
 * `bpftool link`.
 */

/** What bpftool's `link show` prints, as a JSON-ready record. */
export interface LinkRecord {
  id: number;
  type: string;
  prog_id: number;
  [detail: string]: number | string | bigint;
}

function record(info: LinkInfo): LinkRecord {
  const details: Record<string, number | string> = {};
  // Names first (tp_name, target_name), lengths of name buffers left out.
  const entries = Object.entries(info.details)
    .filter(([k]) => !k.endsWith("_len"))
    .sort(([, a], [, b]) => Number(typeof b === "string") - Number(typeof a === "string"));
  for (const [k, v] of entries) details[k] = typeof v === "bigint" ? Number(v) : v;
  // A kind's own `type` field (e.g. struct_ops, perf event config) must not replace the link's.
  const { id: _id, type: _type, prog_id: _prog, ...rest } = details;
  return { id: info.id, type: info.typeName, prog_id: info.progId, ...rest };
}

/** bpftool's text form: "ID: TYPE  prog PROG" then the kind's fields. */
export function formatLink(r: LinkRecord): string {
  const { id, type, prog_id, ...rest } = r;
  const fields = Object.entries(rest)
    .filter(([k]) => k !== "attach_type")
    .map(([k, v]) => `${k === "attach_type_name" ? "attach_type" : k} ${String(v)}`);
  return `${id}: ${type}  prog ${prog_id}${fields.length ? `\n\t${fields.join("  ")}` : ""}`;
}

/** LINK selector like bpftool's: an id (or `id N`, handled by parse), `pinned PATH`, or a path. */
function openLink(words: string[]): RawLink {
  const word = words.shift();
  if (word === undefined) throw new UsageError("missing LINK (an id, 'id N' or 'pinned PATH')");
  if (word === "pinned") {
    const path = words.shift();
    if (path === undefined) throw new UsageError("missing PATH after 'pinned'");
    return openPinnedLink(path);
  }
  if (word.startsWith("/")) return openPinnedLink(word);
  if (!/^\d+$/.test(word)) throw new UsageError(`bad link id '${word}'`);
  return RawLink.fromId(Number(word));
}

/**
 * Errnos of BPF_LINK_GET_FD_BY_ID for an id listed a moment ago that is no link (yet): ENOENT,
 * gone meanwhile; EAGAIN, still being attached (the kernel allocates the id before the attach
 * completes and answers EAGAIN until then; a failed attach frees it).
 */
const NOT_A_LINK_NOW = [2, 11];

/** Records of every link (those that vanish or are still being attached while listing are skipped). */
function listLinks(): LinkRecord[] {
  const out: LinkRecord[] = [];
  for (const id of RawLink.ids()) {
    let link: RawLink;
    try {
      link = RawLink.fromId(id);
    } catch (e) {
      if (e instanceof SyscallError && NOT_A_LINK_NOW.includes(e.errno)) continue;
      throw e;
    }
    try {
      out.push(record(link.info()));
    } finally {
      link.close();
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
  if (verb === undefined) throw new UsageError("missing subcommand (list, show, detach or pin)");
  // "id N" is accepted like bpftool's LINK selector.
  if (words[0] === "id") words.shift();
  return { verb, words, json, pretty };
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { verb, words, json, pretty } = parse(args);
  const print = (value: unknown) => io.out(JSON.stringify(value, null, pretty ? 2 : undefined));
  const extra = (n: number) => {
    if (words.length > n) throw new UsageError(`unexpected argument '${words[n]}'`);
  };
  try {
    if (verb === "list" || (verb === "show" && words.length === 0)) {
      extra(0);
      const all = listLinks();
      if (json) print(all);
      else if (all.length) io.out(all.map(formatLink).join("\n"));
      return 0;
    }
    if (verb === "show" || verb === "detach" || verb === "pin") {
      using link = openLink(words);
      const path = words[0];
      if (verb === "pin") {
        if (path === undefined) throw new UsageError("missing PATH to pin at");
        extra(1);
      } else extra(0);
      if (verb === "show") {
        const r = record(link.info());
        if (json) print(r);
        else io.out(formatLink(r));
      } else if (verb === "detach") {
        link.detach();
      } else {
        objPin(link.fd, path!);
      }
      return 0;
    }
    throw new UsageError(`unknown subcommand '${verb}' (list, show, detach or pin)`);
  } catch (e) {
    if (e instanceof SyscallError || e instanceof NotSupportedError) {
      io.err(`tsbpf link: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const command: Command = {
  usage: "link list|show [LINK]|detach LINK|pin LINK PATH [--json|--pretty]   LINK: ID | id ID | pinned PATH",
  run,
};
export default command;
