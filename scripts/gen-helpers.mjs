#!/usr/bin/env node
// Generates src/isa/helpers.ts, the one table of BPF helper functions (id, name, kernel prototype)
// that the VM, the CLI and the verifier read.
//
//   node scripts/gen-helpers.mjs [--uapi /usr/include/linux/bpf.h] [--libbpf /usr/include/bpf/bpf_helper_defs.h]
//
// Source of truth is the kernel UAPI header: `enum bpf_func_id` (built by __BPF_FUNC_MAPPER) gives
// ids and names, and the documentation block gives each prototype, in the exact form the kernel's
// scripts/bpf_doc.py parses ("long bpf_map_update_elem(struct bpf_map *map, ...)").
// Helpers newer than that header (ids past its __BPF_FUNC_MAX_ID) are taken from libbpf's generated
// bpf_helper_defs.h when it knows them, translating libbpf's spelling back to the kernel's
// (__u64 -> u64, `void *map` -> `struct bpf_map *map`, the reverse of bpf_doc.py's type mapping).
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const UAPI = opt("--uapi", "/usr/include/linux/bpf.h");
const LIBBPF = opt("--libbpf", "/usr/include/bpf/bpf_helper_defs.h");
const OUT = opt("--out", new URL("../src/isa/helpers.ts", import.meta.url).pathname);

const fail = (msg) => {
  console.error(`gen-helpers: ${msg}`);
  process.exit(1);
};

/** "const void *key" -> { type: "const void *", name: "key" }. */
function parseArg(text, where) {
  const m = /^(.*?)(\**)\s*(\w+)$/.exec(text.trim());
  if (!m || !m[1].trim()) fail(`${where}: cannot parse argument "${text}"`);
  const base = m[1].trim();
  return { type: m[2] ? `${base} ${m[2]}` : base, name: m[3] };
}

/** "void *bpf_x(struct a *b, u64 c)" -> { name, returns, args, variadic }. */
function parsePrototype(line, where) {
  const m = /^(.*?)(\**)\s*(bpf_\w+)\((.*)\)$/.exec(line.trim());
  if (!m) fail(`${where}: cannot parse prototype "${line}"`);
  const returns = m[2] ? `${m[1].trim()} ${m[2]}` : m[1].trim();
  const params = m[4].trim();
  let variadic = false;
  const list = params === "void" || params === "" ? [] : params.split(",").map((s) => s.trim());
  if (list.at(-1) === "...") {
    variadic = true;
    list.pop();
  }
  return { name: m[3], returns, args: list.map((a) => parseArg(a, where)), variadic };
}

// ---- kernel UAPI header -------------------------------------------------------------------------
const uapi = readFileSync(UAPI, "utf8");
const mapper =
  /#define __BPF_FUNC_MAPPER\(FN\)([\s\S]*?)\n\s*\/\* \*\/|#define __BPF_FUNC_MAPPER\(FN\)([\s\S]*?)\n\n/.exec(
    uapi,
  );
if (!mapper) fail(`${UAPI}: no __BPF_FUNC_MAPPER`);
const ids = [];
for (const m of (mapper[1] ?? mapper[2]).matchAll(/FN\((\w+)(?:,\s*(\d+))?/g)) {
  const id = m[2] !== undefined ? Number(m[2]) : ids.length;
  if (id !== ids.length) fail(`${UAPI}: helper ids are not dense at ${m[1]} (${id})`);
  ids.push(m[1]);
}
const protos = new Map();
const lines = uapi.split("\n");
for (let i = 0; i + 1 < lines.length; i++) {
  // bpf_doc.py: a prototype line is followed by a "Description" line.
  const m = /^ \* (\S.*\bbpf_\w+\(.*\))\s*$/.exec(lines[i]);
  if (m && /^ \*\s+Description\s*$/.test(lines[i + 1])) {
    const p = parsePrototype(m[1], `${UAPI}:${i + 1}`);
    // A few helpers are documented once per context (bpf_get_socket_cookie for skb, sock_addr,
    // sock_ops, sk...); the first is the primary prototype, as in libbpf's bpf_helper_defs.h.
    if (!protos.has(p.name)) protos.set(p.name, { ...p, source: "uapi" });
  }
}

// ---- libbpf's bpf_helper_defs.h, for helpers the UAPI header is too old to know ------------------
const LIBBPF_TYPES = [
  [/\b__u(8|16|32|64)\b/g, "u$1"],
  [/\b__s(8|16|32|64)\b/g, "s$1"],
  [/\b__be(16|32)\b/g, "__be$1"],
];
const libbpfIds = new Map();
try {
  const text = readFileSync(LIBBPF, "utf8");
  for (const m of text.matchAll(/^static (.*?)\(\*(bpf_\w+)\)\((.*)\) = \(void \*\) (\d+);$/gm)) {
    let params = m[3];
    for (const [re, to] of LIBBPF_TYPES) params = params.replace(re, to);
    params = params.replace(/(^|, )void \*map\b/, "$1struct bpf_map *map");
    let ret = m[1].trim();
    for (const [re, to] of LIBBPF_TYPES) ret = ret.replace(re, to);
    const proto = parsePrototype(`${ret.endsWith("*") ? ret : `${ret} `}${m[2]}(${params})`, LIBBPF);
    libbpfIds.set(Number(m[4]), { ...proto, source: "libbpf" });
  }
} catch (e) {
  if (e.code !== "ENOENT") throw e;
}

const helpers = [];
for (let id = 1; id < ids.length; id++) {
  const name = `bpf_${ids[id]}`;
  const p = protos.get(name);
  if (!p) fail(`${UAPI}: helper ${name} (id ${id}) has no documented prototype`);
  helpers.push({ id, ...p });
}
for (let id = ids.length; libbpfIds.has(id); id++) helpers.push({ id, ...libbpfIds.get(id) });

// ---- emit ---------------------------------------------------------------------------------------
let version = "unknown";
try {
  const v = /LINUX_VERSION_CODE (\d+)/.exec(readFileSync(UAPI.replace(/bpf\.h$/, "version.h"), "utf8"));
  if (v) version = `${v[1] >> 16}.${(v[1] >> 8) & 0xff}`;
} catch {
  /* no version.h next to the header */
}

const q = JSON.stringify;
const rows = helpers.map((h) => {
  const a = h.args.map((x) => `{ type: ${q(x.type)}, name: ${q(x.name)} }`).join(", ");
  return `  { id: ${h.id}, name: ${q(h.name)}, returns: ${q(h.returns)}, args: [${a}]${h.variadic ? ", variadic: true" : ""} },`;
});
const fromLibbpf = helpers.filter((h) => h.source === "libbpf").map((h) => h.name);

const out = `// GENERATED by scripts/gen-helpers.mjs — do not edit; rerun \`node scripts/gen-helpers.mjs\`.
// Source: ${UAPI} (Linux UAPI ${version}): enum bpf_func_id and the helper documentation.
${fromLibbpf.length ? `// Newer than that header, from ${LIBBPF}: ${fromLibbpf.join(", ")}.\n` : ""}
/** One argument of a helper prototype, spelled as in the kernel's documentation. */
export interface HelperArg {
  /** C type, e.g. "const void *", "struct bpf_map *", "u64". */
  readonly type: string;
  readonly name: string;
}

/** A BPF helper function: the value of \`imm\` in \`call imm\` and its kernel prototype. */
export interface HelperSpec {
  /** enum bpf_func_id value. */
  readonly id: number;
  /** Full name with the bpf_ prefix, e.g. "bpf_map_lookup_elem". */
  readonly name: string;
  /** C return type, e.g. "long", "void *", "u64". */
  readonly returns: string;
  readonly args: readonly HelperArg[];
  /** Takes extra arguments after \`args\` (bpf_trace_printk), up to five in all. */
  readonly variadic?: true;
}

/** Every helper of the kernel, indexed by id - 1 (id 0, BPF_FUNC_unspec, is not a helper). */
export const HELPERS: readonly HelperSpec[] = [
${rows.join("\n")}
];

/** One past the largest helper id known (the kernel's __BPF_FUNC_MAX_ID). */
export const HELPER_MAX_ID = ${helpers.length + 1};

const byName = new Map<string, HelperSpec>(HELPERS.map((h) => [h.name, h]));

/** The helper with this id (BPF_FUNC_*), or undefined. */
export function helperById(id: number): HelperSpec | undefined {
  const h = HELPERS[id - 1];
  return h?.id === id ? h : undefined;
}

/** The helper with this name, with or without the bpf_ prefix ("map_lookup_elem" works). */
export function helperByName(name: string): HelperSpec | undefined {
  return byName.get(name) ?? byName.get(\`bpf_\${name}\`);
}

/** "long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)" */
export function helperPrototype(h: HelperSpec): string {
  const args = h.args.map((a) => \`\${a.type}\${a.type.endsWith("*") ? "" : " "}\${a.name}\`);
  if (h.variadic) args.push("...");
  return \`\${h.returns}\${h.returns.endsWith("*") ? "" : " "}\${h.name}(\${args.length ? args.join(", ") : "void"})\`;
}
`;
// Formatted as if it lived at src/isa/helpers.ts, so the repository's prettier config applies
// even when --out points elsewhere (the up-to-date test generates into a temp dir).
const repoPath = new URL("../src/isa/helpers.ts", import.meta.url).pathname;
const formatted = execFileSync("npx", ["prettier", "--stdin-filepath", repoPath], {
  input: out,
  encoding: "utf8",
  cwd: new URL("..", import.meta.url).pathname,
});
writeFileSync(OUT, formatted);
console.log(`gen-helpers: ${helpers.length} helpers (ids 1-${helpers.length}) -> ${OUT}`);
