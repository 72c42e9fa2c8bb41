/**
 * ksyms: the kernel's symbols read by a ksym iterator (iter/ksym, 6.0) rather than from
 * /proc/kallsyms, in the same format; filters by name, type and module. The module list of
 * lsmod comes from the same iterator.
 */
import { attachIter } from "../kernel/links/index.js";
import { loadToolObject } from "./common/bpf.js";
import { Cleanup } from "./common/cleanup.js";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { toJson } from "./common/output.js";
import { ToolUsageError, type Tool, type ToolIO } from "./common/tool.js";

/** One kernel symbol. */
export interface KernelSymbol {
  readonly address: bigint;
  /** nm-style type letter: T/t text, D/d data, B/b bss, R/r read-only, W/w weak… */
  readonly type: string;
  readonly name: string;
  /** The module, undefined for the core kernel image. */
  readonly module: string | undefined;
}

/** Parses kallsyms text (the iterator writes /proc/kallsyms' format). */
export function parseKsyms(text: string): KernelSymbol[] {
  const out: KernelSymbol[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+) (\S) (\S+)(?:\s+\[(\S+)\])?$/.exec(line);
    if (m) out.push({ address: BigInt(`0x${m[1]}`), type: m[2]!, name: m[3]!, module: m[4] });
  }
  return out;
}

/** Runs the ksym iterator once and returns every symbol. */
export function readKernelSymbols(): KernelSymbol[] {
  using cleanup = new Cleanup();
  const coll = cleanup.use(loadToolObject("ksyms"));
  const link = cleanup.use(attachIter(coll.program("ksyms_iter")));
  return parseKsyms(link.readText());
}

const spec = defineTool({
  name: "ksyms",
  summary: "List kernel symbols through a BPF ksym iterator (like /proc/kallsyms)",
  options: {
    type: { kind: "string", short: "t", arg: "TYPES", help: "only these type letters (e.g. tT for text)" },
    module: {
      kind: "string",
      short: "m",
      arg: "MODULE",
      help: "only symbols of this module ('kernel' for the core image)",
    },
    grep: { kind: "string", short: "g", arg: "REGEX", help: "only names matching this regular expression" },
    count: { kind: "flag", short: "c", help: "print only the number of symbols" },
  },
  examples: [
    ["ksyms -g '^tcp_v4_'", "symbols whose name starts with tcp_v4_"],
    ["ksyms -t tT -c", "count text symbols"],
    ["ksyms -m kernel --json", "core kernel symbols as JSON"],
  ],
});

async function run(args: string[], io: ToolIO, _signal: AbortSignal): Promise<number> {
  await Promise.resolve();
  const o = parseToolArgs(spec, args);
  let re: RegExp | undefined;
  if (o.grep !== undefined) {
    try {
      re = new RegExp(o.grep);
    } catch (e) {
      throw new ToolUsageError(`-g: ${(e as Error).message}`);
    }
  }
  let syms = readKernelSymbols();
  if (o.type !== undefined) syms = syms.filter((s) => o.type!.includes(s.type));
  if (o.module !== undefined) syms = syms.filter((s) => (s.module ?? "kernel") === o.module);
  if (re) syms = syms.filter((s) => re.test(s.name));
  if (o.count) {
    io.out(o.json ? toJson({ count: syms.length }) : String(syms.length));
    return 0;
  }
  for (const s of syms) {
    const address = s.address.toString(16).padStart(16, "0");
    if (o.json) io.out(toJson({ address, type: s.type, name: s.name, module: s.module ?? null }));
    else io.out(`${address} ${s.type} ${s.name}${s.module ? `\t[${s.module}]` : ""}`);
  }
  return 0;
}

export const ksyms: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default ksyms;
