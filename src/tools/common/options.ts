/**
 * Command-line options of the tools, declared once as data: the parser, the typed result and
 * the help text (libbpf-tools/argp style) all come from the same table.
 *
 *     const spec = defineTool({
 *       name: "opensnoop", summary: "Trace open family syscalls",
 *       options: {
 *         pid: { kind: "int", short: "p", arg: "PID", help: "trace this PID only" },
 *         failed: { kind: "flag", short: "x", help: "only show failed opens" },
 *       },
 *       positionals: [{ name: "duration", help: "total seconds to trace" }],
 *       examples: [["opensnoop -p 181", "only trace PID 181"]],
 *     });
 *     const o = parseToolArgs(spec, args);   // o.pid: number | undefined, o.failed: boolean,
 *                                            // o.json, o.prometheus, o.positionals.duration
 */
import { parseArgs } from "node:util";
import { ToolUsageError } from "./tool.js";

/** flag: boolean; int: a non-negative decimal/0x integer; string: text; list: repeatable text. */
export type OptionKind = "flag" | "int" | "string" | "list";

export interface OptionDef {
  readonly kind: OptionKind;
  /** One-letter alias ("p" for -p). */
  readonly short?: string;
  /** Name of the value in the help ("PID"). */
  readonly arg?: string;
  readonly help: string;
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  /** Smallest value of an int option (default 0). */
  readonly min?: number;
}

/** -d SECONDS of the tools that trace until Ctrl-C (execsnoop, tcpconnect…): stop after that long. */
export const DURATION_OPTION = {
  kind: "int",
  short: "d",
  arg: "SECONDS",
  min: 1,
  help: "trace for this many seconds, then exit",
} as const satisfies OptionDef;

/** A positional integer argument (interval, count, duration...). */
export interface PositionalDef {
  readonly name: string;
  readonly help: string;
}

export interface ToolSpec<
  O extends Readonly<Record<string, OptionDef>> = Readonly<Record<string, OptionDef>>,
> {
  readonly name: string;
  readonly summary: string;
  /** Paragraph printed under the synopsis (defaults to the summary). */
  readonly description?: string;
  readonly options: O;
  readonly positionals?: readonly PositionalDef[];
  /** [command line without "tsbpf ", what it does]. */
  readonly examples?: readonly (readonly [string, string])[];
  /** Adds --prometheus HOST:PORT (long-running tools with counters or histograms). */
  readonly prometheus?: boolean;
}

type ValueOf<D extends OptionDef> = D["kind"] extends "flag"
  ? boolean
  : D["kind"] extends "int"
    ? number | undefined
    : D["kind"] extends "list"
      ? string[]
      : string | undefined;

/** What parseToolArgs returns: one typed field per option, plus the common ones. */
export type ParsedArgs<O extends Readonly<Record<string, OptionDef>>> = {
  readonly [K in keyof O]: ValueOf<O[K]>;
} & {
  /** --json: one JSON object per line instead of columns. */
  readonly json: boolean;
  /** --prometheus HOST:PORT when given (tools declared with prometheus: true). */
  readonly prometheus: string | undefined;
  readonly positionals: Readonly<Record<string, number | undefined>>;
};

/** Declares a tool's options (identity function that keeps the literal types). */
export function defineTool<const O extends Readonly<Record<string, OptionDef>>>(
  spec: ToolSpec<O>,
): ToolSpec<O> {
  return spec;
}

const COMMON: Readonly<Record<string, OptionDef>> = {
  json: { kind: "flag", help: "print one JSON object per line (per event or per interval)" },
};
const PROMETHEUS: OptionDef = {
  kind: "string",
  arg: "HOST:PORT",
  help: "serve the counters and histograms in the Prometheus text format at http://HOST:PORT/metrics",
};

/** option name -> --long-name (camelCase becomes kebab-case). */
export const longName = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function allOptions(spec: ToolSpec): [string, OptionDef][] {
  return [
    ...Object.entries(spec.options),
    ...Object.entries(COMMON),
    ...(spec.prometheus ? ([["prometheus", PROMETHEUS]] as [string, OptionDef][]) : []),
  ];
}

/** Parses an integer the way the tools accept them: decimal or 0x hex, >= min. */
export function parseInteger(what: string, text: string, min = 0): number {
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(text)) throw new ToolUsageError(`${what}: '${text}' is not an integer`);
  const n = text.startsWith("-") ? -Number(text.slice(1)) : Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ToolUsageError(`${what}: ${text} is out of range (>= ${min})`);
  return n;
}

/** Parses a tool's arguments; bad usage throws ToolUsageError with one line. */
export function parseToolArgs<O extends Readonly<Record<string, OptionDef>>>(
  spec: ToolSpec<O>,
  args: readonly string[],
): ParsedArgs<O> {
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  const byLong = new Map<string, [string, OptionDef]>();
  for (const [name, def] of allOptions(spec)) {
    const long = longName(name);
    byLong.set(long, [name, def]);
    config[long] = {
      type: def.kind === "flag" ? "boolean" : "string",
      ...(def.short ? { short: def.short } : {}),
      ...(def.kind === "list" ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
    throw new ToolUsageError(
      message.replace(/^TypeError \[\w+\]: /, "").replace(/\. To specify a positional.*$/, ""),
    );
  }
  const out: Record<string, unknown> = {};
  for (const [long, [name, def]] of byLong) {
    const raw = parsed.values[long];
    const flag = def.short ? `-${def.short}/--${long}` : `--${long}`;
    switch (def.kind) {
      case "flag":
        out[name] = raw === true;
        break;
      case "list":
        out[name] = Array.isArray(raw) ? raw.map(String) : [];
        break;
      case "int":
        out[name] = typeof raw === "string" ? parseInteger(flag, raw, def.min ?? 0) : undefined;
        break;
      case "string":
        if (typeof raw === "string" && def.choices && !def.choices.includes(raw))
          throw new ToolUsageError(`${flag} must be one of ${def.choices.join(", ")} (got '${raw}')`);
        out[name] = typeof raw === "string" ? raw : undefined;
        break;
    }
  }
  const defs = spec.positionals ?? [];
  if (parsed.positionals.length > defs.length)
    throw new ToolUsageError(
      `unexpected argument '${parsed.positionals[defs.length]!}'` +
        (defs.length ? ` (takes ${defs.map((d) => d.name).join(", ")})` : ""),
    );
  const positionals: Record<string, number | undefined> = {};
  defs.forEach((d, i) => {
    const text = parsed.positionals[i];
    positionals[d.name] = text === undefined ? undefined : parseInteger(d.name, text, 1);
  });
  out.positionals = positionals;
  out.prometheus ??= undefined;
  return out as ParsedArgs<O>;
}

/** The synopsis line: `execsnoop [-h] [-t] [-u UID] [--json] [interval] [count]`. */
export function synopsis(spec: ToolSpec): string {
  const parts = ["[-h]"];
  for (const [name, def] of allOptions(spec)) {
    const flag = def.short ? `-${def.short}` : `--${longName(name)}`;
    parts.push(def.kind === "flag" ? `[${flag}]` : `[${flag} ${def.arg ?? "VALUE"}]`);
  }
  for (const p of spec.positionals ?? []) parts.push(`[${p.name}]`);
  return `${spec.name} ${parts.join(" ")}`;
}

/** The whole help text: synopsis, description, options (argp layout) and examples. */
export function usageText(spec: ToolSpec): string {
  const rows: [string, string][] = [["-h, --help", "show this help"]];
  for (const [name, def] of allOptions(spec)) {
    const long = `--${longName(name)}${def.kind === "flag" ? "" : `=${def.arg ?? "VALUE"}`}`;
    const help = def.choices ? `${def.help} (${def.choices.join(", ")})` : def.help;
    rows.push([def.short ? `-${def.short}, ${long}` : `    ${long}`, help]);
  }
  for (const p of spec.positionals ?? []) rows.push([p.name, p.help]);
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  const lines = [synopsis(spec), "", spec.description ?? spec.summary, ""];
  for (const [a, b] of rows) lines.push(`  ${a.padEnd(width)}${b}`);
  if (spec.examples?.length) {
    lines.push("", "Examples:");
    const w = Math.max(...spec.examples.map(([c]) => c.length)) + 8;
    for (const [cmd, what] of spec.examples) lines.push(`  ${`tsbpf ${cmd}`.padEnd(w)}# ${what}`);
  }
  return lines.join("\n");
}
