/**
 * How the stack tools (profile, offcputime) print what they collected: one JSON object per
 * stack, BCC's multi-line listing or the folded form, a warning for stacks the stack-trace map
 * lost, and with --svg an interactive flame graph.
 */
import { writeFileSync } from "node:fs";
import { foldedStacks, renderFlameGraph, type FlameGraphOptions } from "./flamegraph.js";
import { toJson } from "./output.js";
import { formatStackLines, mergeFolded, type SymbolizedStack } from "./stacks.js";
import type { ToolIO } from "./tool.js";

export interface StackReportOptions {
  readonly io: ToolIO;
  readonly json: boolean;
  /** -f: folded lines, one per distinct stack. */
  readonly folded: boolean;
  /** -d: kernel and user frames separated. */
  readonly delimited: boolean;
  /** --svg FILE. */
  readonly svg?: string | undefined;
  /** The JSON name of a stack's value ("count", "usecs"). */
  readonly valueName: string;
  /** What the flame graph says about itself. */
  readonly flameGraph: FlameGraphOptions;
  /** What --svg adds to "wrote FILE (N stacks)", e.g. "1234 samples". */
  readonly svgTotal?: string;
}

/** Prints `stacks` (sorted as they should appear) as the tool's options ask. */
export function reportStacks(stacks: readonly SymbolizedStack[], o: StackReportOptions): void {
  const fmt = { delimiter: o.delimited };
  for (const s of stacks) {
    if (o.json)
      o.io.out(
        toJson({
          pid: s.pid,
          ...(s.tgid !== undefined ? { tgid: s.tgid } : {}),
          comm: s.comm,
          kernel_stack: s.kernelMissed ? null : (s.kernel ?? null),
          user_stack: s.userMissed ? null : (s.user ?? null),
          [o.valueName]: s.value,
        }),
      );
    else if (!o.folded) o.io.out(formatStackLines(s, fmt));
  }
  // Folded: one line per distinct stack (ids that symbolize alike are merged, as flamegraph.pl would).
  if (o.folded && !o.json)
    for (const [stack, value] of mergeFolded(stacks, fmt)) o.io.out(`${stack} ${value}`);
  const missed = stacks.filter((s) => s.userMissed || s.kernelMissed).length;
  if (missed > 0 && !o.json)
    o.io.err(
      `WARNING: ${missed} stack traces could not be displayed (stack-trace map full or hash collisions:` +
        ` consider --stack-storage-size).`,
    );
  if (o.svg !== undefined) {
    const folded = mergeFolded(stacks, fmt);
    writeFileSync(o.svg, renderFlameGraph(foldedStacks(folded), o.flameGraph));
    o.io.err(`wrote ${o.svg} (${o.svgTotal ? `${o.svgTotal}, ` : ""}${folded.size} stacks)`);
  }
}
