import { SyscallError } from "../../kernel/errors.js";
import { KernelMap, possibleCpus } from "../../kernel/map.js";
import { UpdateFlags, readFdInfo, type MapInfo } from "../../kernel/sys/index.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/**
 * `tsbpf map list|show|dump|lookup|update|delete`: the maps in the kernel, printed like
 * `bpftool map`. MAP is an id, a name or a pinned path (or `id N`, `name NAME`, `pinned PATH`).
 * Keys and values are hex bytes: "01000000", "01 00 00 00" or "0x01 0x00 0x00 0x00".
 */

/** What bpftool's `map show` prints, as a JSON-ready record. */
export interface MapRecord {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  bytes_memlock?: number;
  frozen?: number;
  btf_id?: number;
}

function record(info: MapInfo, fd: number): MapRecord {
  const fdinfo = readFdInfo(fd);
  return {
    id: info.id,
    type: info.typeName,
    name: info.name,
    flags: info.flags,
    bytes_key: info.keySize,
    bytes_value: info.valueSize,
    max_entries: info.maxEntries,
    ...(fdinfo.memlock !== undefined ? { bytes_memlock: Number(fdinfo.memlock) } : {}),
    ...(fdinfo.frozen !== undefined ? { frozen: Number(fdinfo.frozen) } : {}),
    ...(info.btfId ? { btf_id: info.btfId } : {}),
  };
}

/** bpftool's two-line text form of a map. */
export function formatMap(r: MapRecord): string {
  const lines = [
    `${r.id}: ${r.type}  ${r.name ? `name ${r.name}  ` : ""}flags 0x${r.flags.toString(16)}`,
    `\tkey ${r.bytes_key}B  value ${r.bytes_value}B  max_entries ${r.max_entries}` +
      `${r.bytes_memlock !== undefined ? `  memlock ${r.bytes_memlock}B` : ""}`,
  ];
  if (r.btf_id) lines.push(`\tbtf_id ${r.btf_id}`);
  if (r.frozen) lines.push("\tfrozen");
  return lines.join("\n");
}

/** Hex bytes from "01000000", "01 00 00 00" or "0x01 0x00"; UsageError naming the bad text. */
export function parseHex(text: string, what: string): Uint8Array {
  const tokens = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  const digits = tokens
    .map((t) => {
      const d = t.replace(/^0x/i, "");
      // "0x1" as a single token means one byte, like bpftool.
      return tokens.length > 1 && d.length === 1 ? `0${d}` : d;
    })
    .join("");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new UsageError(`${what} '${text}' is not hex bytes`);
  return Uint8Array.from(digits.match(/../g) ?? [], (b) => parseInt(b, 16));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const spaced = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");

/** Opens the map a selector names; returns it and the words after the selector. */
export function openMap(words: readonly string[]): { map: KernelMap; rest: string[] } {
  const [first, second] = words;
  if (first === undefined) throw new UsageError("missing MAP (an id, a name or a pinned path)");
  if (first === "id" || first === "name" || first === "pinned") {
    if (second === undefined) throw new UsageError(`'${first}' needs a value`);
    const rest = words.slice(2);
    if (first === "name") return { map: KernelMap.fromName(second), rest };
    if (first === "pinned") return { map: KernelMap.fromPin(second), rest };
    if (!/^\d+$/.test(second)) throw new UsageError(`bad map id '${second}'`);
    return { map: KernelMap.fromId(Number(second)), rest };
  }
  const rest = words.slice(1);
  if (/^\d+$/.test(first)) return { map: KernelMap.fromId(Number(first)), rest };
  if (first.startsWith("/")) return { map: KernelMap.fromPin(first), rest };
  return { map: KernelMap.fromName(first), rest };
}

function listMaps(): MapRecord[] {
  const out: MapRecord[] = [];
  for (const id of KernelMap.ids()) {
    let map: KernelMap;
    try {
      map = KernelMap.fromId(id);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === 2) continue; // gone meanwhile
      throw e;
    }
    try {
      out.push(record(map.info, map.fd));
    } finally {
      map.close();
    }
  }
  return out;
}

/** One entry as JSON: per-CPU values become an array of hex strings, one per CPU. */
function entryJson(
  map: KernelMap,
  key: Uint8Array,
  value: Uint8Array,
): { key: string; value: string | string[] } {
  return { key: hex(key), value: map.perCpu ? map.splitPerCpu(value).map(hex) : hex(value) };
}

/** One entry as text, like bpftool. */
function entryText(map: KernelMap, key: Uint8Array, value: Uint8Array): string {
  if (!map.perCpu) return `key: ${spaced(key)}  value: ${spaced(value)}`;
  const cpus = map
    .splitPerCpu(value)
    .map((v, cpu) => `value (CPU ${String(cpu).padStart(2, "0")}): ${spaced(v)}`);
  return [`key:`, spaced(key), ...cpus].join("\n");
}

interface Parsed {
  verb: string;
  words: string[];
  json: boolean;
  pretty: boolean;
  flags: number;
}

const UPDATE_FLAGS: Readonly<Record<string, number>> = {
  "--any": UpdateFlags.ANY,
  "--noexist": UpdateFlags.NOEXIST,
  "--exist": UpdateFlags.EXIST,
};

function parse(args: readonly string[]): Parsed {
  const words: string[] = [];
  let json = false;
  let pretty = false;
  let flags: number = UpdateFlags.ANY;
  for (const a of args) {
    if (a === "--json" || a === "-j") json = true;
    else if (a === "--pretty" || a === "-p") json = pretty = true;
    else if (a in UPDATE_FLAGS) flags = UPDATE_FLAGS[a]!;
    else if (a.startsWith("--")) throw new UsageError(`unknown option '${a}'`);
    else words.push(a);
  }
  const verb = words.shift();
  if (verb === undefined)
    throw new UsageError("missing subcommand (list, show, dump, lookup, update, delete or pin)");
  return { verb, words, json, pretty, flags };
}

function noMore(rest: readonly string[]): void {
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
}

/** Runs `fn` on the map named by the words, closing it afterwards. */
function withMap<T>(words: readonly string[], fn: (map: KernelMap, rest: string[]) => T): T {
  const { map, rest } = openMap(words);
  try {
    return fn(map, rest);
  } finally {
    map.close();
  }
}

const VERBS: Readonly<Record<string, (p: Parsed, io: CommandIO, print: (v: unknown) => void) => number>> = {
  list: ({ words, json }, io, print) => {
    noMore(words);
    const all = listMaps();
    if (json) print(all);
    else if (all.length) io.out(all.map(formatMap).join("\n"));
    return 0;
  },
  show: (p, io, print) => {
    if (p.words.length === 0) return VERBS.list!(p, io, print);
    return withMap(p.words, (map, rest) => {
      noMore(rest);
      const r = record(map.info, map.fd);
      if (p.json) print(r);
      else io.out(formatMap(r));
      return 0;
    });
  },
  dump: ({ words, json }, io, print) =>
    withMap(words, (map, rest) => {
      noMore(rest);
      const entries = [...map.entries()];
      if (json) print(entries.map(([k, v]) => entryJson(map, k, v)));
      else {
        const lines = entries.map(([k, v]) => entryText(map, k, v));
        lines.push(`Found ${entries.length} element${entries.length === 1 ? "" : "s"}`);
        io.out(lines.join("\n"));
      }
      return 0;
    }),
  lookup: ({ words, json }, io, print) =>
    withMap(words, (map, rest) => {
      if (rest.length !== 1) throw new UsageError("lookup needs MAP KEYHEX");
      const key = parseHex(rest[0]!, "key");
      const value = map.lookup(key);
      if (!value) {
        io.err(`tsbpf map: key ${hex(key)} not found in map '${map.info.name}' (id ${map.info.id})`);
        return 1;
      }
      if (json) print(entryJson(map, key, value));
      else io.out(entryText(map, key, value));
      return 0;
    }),
  update: ({ words, json, flags }, io, print) =>
    withMap(words, (map, rest) => {
      if (rest.length !== 2) throw new UsageError("update needs MAP KEYHEX VALUEHEX");
      const key = parseHex(rest[0]!, "key");
      const value = parseHex(rest[1]!, "value");
      // A per-CPU map given one value sets it on every CPU.
      if (map.perCpu && value.byteLength === map.info.valueSize) {
        map.updatePerCpu(
          key,
          Array.from({ length: possibleCpus() }, () => value),
          flags,
        );
      } else map.update(key, value, flags);
      if (json) print(null);
      return 0;
    }),
  delete: ({ words, json }, io, print) =>
    withMap(words, (map, rest) => {
      if (rest.length !== 1) throw new UsageError("delete needs MAP KEYHEX");
      const key = parseHex(rest[0]!, "key");
      if (!map.delete(key)) {
        io.err(`tsbpf map: key ${hex(key)} not found in map '${map.info.name}' (id ${map.info.id})`);
        return 1;
      }
      if (json) print(null);
      return 0;
    }),
  pin: ({ words, json }, io, print) =>
    withMap(words, (map, rest) => {
      if (rest.length !== 1) throw new UsageError("pin needs MAP PATH (a path in bpffs)");
      map.pin(rest[0]!);
      if (json) print(null);
      return 0;
    }),
};

async function run(args: string[], io: CommandIO): Promise<number> {
  const parsed = parse(args);
  const verb = VERBS[parsed.verb];
  if (!verb) throw new UsageError(`unknown subcommand '${parsed.verb}' (${Object.keys(VERBS).join(", ")})`);
  const print = (value: unknown) => io.out(JSON.stringify(value, null, parsed.pretty ? 2 : undefined));
  try {
    return verb(parsed, io, print);
  } catch (e) {
    // Kernel refusals are runtime faults (exit 1); bad input stays an input error (exit 2).
    if (e instanceof SyscallError) {
      io.err(`tsbpf map: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

const command: Command = {
  usage:
    "map list | show [MAP] | dump MAP | lookup MAP KEYHEX | update MAP KEYHEX VALUEHEX [--noexist|--exist] | delete MAP KEYHEX | pin MAP PATH  [--json|--pretty]",
  run,
};
export default command;
