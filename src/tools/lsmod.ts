/**
 * lsmod: the loaded kernel modules as a ksym iterator sees them (modules are the `[name]` of
 * their symbols): for each module its symbol count and the address span of its text. A BPF
 * program cannot see a module's reference count, so the "Used by" column of lsmod is absent.
 */
import { existsSync } from "node:fs";
import { defineTool, parseToolArgs, usageText } from "./common/options.js";
import { Table } from "./common/output.js";
import type { Tool, ToolIO } from "./common/tool.js";
import { readKernelSymbols, type KernelSymbol } from "./ksyms.js";

const spec = defineTool({
  name: "lsmod",
  summary: "List kernel modules through a BPF ksym iterator",
  options: {},
  examples: [["lsmod", "modules, symbol counts and text spans"]],
});

/** A module and what its symbols tell. */
export interface ModuleInfo {
  readonly module: string;
  readonly symbols: number;
  /** Bytes between the lowest and highest text symbol. */
  readonly textSpan: number;
  readonly address: bigint;
}

/** Groups symbols by module. */
export function modulesOf(syms: readonly KernelSymbol[]): ModuleInfo[] {
  const by = new Map<string, { n: number; lo: bigint; hi: bigint }>();
  for (const s of syms) {
    if (!s.module || s.module.startsWith("__builtin") || s.module === "bpf") continue;
    const m = by.get(s.module) ?? { n: 0, lo: s.address, hi: s.address };
    m.n++;
    if (s.address < m.lo) m.lo = s.address;
    if (s.address > m.hi) m.hi = s.address;
    by.set(s.module, m);
  }
  return [...by]
    .map(([module, m]) => ({ module, symbols: m.n, textSpan: Number(m.hi - m.lo), address: m.lo }))
    .sort((a, b) => a.module.localeCompare(b.module));
}

async function run(args: string[], io: ToolIO, _signal: AbortSignal): Promise<number> {
  await Promise.resolve();
  const o = parseToolArgs(spec, args);
  const modules = modulesOf(readKernelSymbols());
  if (modules.length === 0 && !existsSync("/proc/modules"))
    io.err(
      "lsmod: this kernel has no loadable module support (no /proc/modules, CONFIG_MODULES off): no modules",
    );
  const table = new Table<ModuleInfo>(
    io,
    [
      { name: "Module", width: 24, value: (m) => m.module },
      { name: "Symbols", width: 8, right: true, value: (m) => m.symbols },
      { name: "Span", width: 10, right: true, key: "text_span", value: (m) => m.textSpan },
      { name: "Address", key: "address", value: (m) => `0x${m.address.toString(16)}` },
    ],
    o.json,
  );
  table.header();
  for (const m of modules) table.row(m);
  return 0;
}

export const lsmod: Tool = { name: spec.name, summary: spec.summary, usage: usageText(spec), run };
export default lsmod;
