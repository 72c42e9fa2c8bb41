/**
 * BPF-to-BPF linking, as libbpf's bpf_object__reloc_code: a program is its entry function
 * followed by every subprogram it reaches through calls or function addresses (bpf_loop
 * callbacks), transitively, each appended once in depth-first order of first use. Call offsets
 * are recomputed for the final layout; func_info, line_info and CO-RE records of every linked
 * function are re-based to the program.
 */
import type { BtfExt, CoreRelo, FuncInfo, LineInfo } from "../btf/index.js";
import type { Instruction } from "../isa/index.js";
import { type LoadContext } from "./context.js";
import { functionAt, type CodeSection, type Fixup, type FunctionDef } from "./code.js";
import type { LinkedFunction } from "./spec.js";

/** A reference of instruction `index` before maps are numbered. */
export type RawReference = { readonly index: number } & (
  Exclude<Fixup, { kind: "call" | "func-addr" }> | { readonly kind: "func"; readonly function: string }
);

export interface LinkedProgram {
  readonly instructions: Instruction[];
  /** References with maps still as objects (the loader turns them into names and indexes). */
  readonly references: RawReference[];
  readonly functions: LinkedFunction[];
  readonly funcInfo: FuncInfo[];
  readonly lineInfo: LineInfo[];
  readonly coreRelos: CoreRelo[];
}

/** Links the program whose entry is `entry`. */
export function linkProgram(
  ctx: LoadContext,
  entry: FunctionDef,
  code: ReadonlyMap<number, CodeSection>,
): LinkedProgram {
  const order: FunctionDef[] = [entry];
  const placed = new Map<FunctionDef, number>([[entry, 0]]);
  let nextSlot = entry.end - entry.start;
  const targetOf = (c: CodeSection, i: number): { fn: FunctionDef; slot: number } | undefined => {
    const f = c.fixups.get(i);
    if (!f || (f.kind !== "call" && f.kind !== "func-addr")) return undefined;
    const target = code.get(f.section)!;
    return { fn: functionAt(target, f.slot)!, slot: f.slot };
  };
  // Depth-first, without recursion (a hostile object may have thousands of functions).
  const stack: { fn: FunctionDef; i: number }[] = [{ fn: entry, i: entry.section.indexAt[entry.start]! }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const c = top.fn.section;
    const endIndex = indexAtOrEnd(c, top.fn.end);
    if (top.i >= endIndex) {
      stack.pop();
      continue;
    }
    const t = targetOf(c, top.i++);
    if (t && !placed.has(t.fn)) {
      placed.set(t.fn, nextSlot);
      nextSlot += t.fn.end - t.fn.start;
      order.push(t.fn);
      stack.push({ fn: t.fn, i: t.fn.section.indexAt[t.fn.start]! });
    }
  }

  const out: LinkedProgram = {
    instructions: [],
    references: [],
    functions: [],
    funcInfo: [],
    lineInfo: [],
    coreRelos: [],
  };
  for (const fn of order) {
    const c = fn.section;
    const base = placed.get(fn)!;
    const first = c.indexAt[fn.start]!;
    const last = indexAtOrEnd(c, fn.end);
    out.functions.push({
      name: fn.name,
      section: c.section.name,
      slot: base,
      index: out.instructions.length,
      length: last - first,
      linkage: fn.linkage,
    });
    for (let i = first; i < last; i++) {
      let insn = c.insns[i]!;
      const index = out.instructions.length;
      const newSlot = base + (c.slotOf[i]! - fn.start);
      const fix = c.fixups.get(i);
      if (fix) {
        if (fix.kind === "call" || fix.kind === "func-addr") {
          const t = targetOf(c, i)!;
          const targetSlot = placed.get(t.fn)! + (t.slot - t.fn.start);
          insn = { ...insn, imm: targetSlot - (newSlot + 1) };
          out.references.push({ index, kind: "func", function: t.fn.name });
        } else {
          out.references.push({ index, ...fix });
        }
      }
      out.instructions.push(insn);
    }
    rebaseExt(ctx.btfExt, fn, base, out);
  }
  return out;
}

function indexAtOrEnd(c: CodeSection, slot: number): number {
  return slot >= c.indexAt.length ? c.insns.length : c.indexAt[slot]!;
}

/** Copies the .BTF.ext records of `fn` with insnOff moved to the function's place (bytes in the program). */
function rebaseExt(ext: BtfExt | undefined, fn: FunctionDef, base: number, out: LinkedProgram): void {
  if (!ext) return;
  const name = fn.section.section.name;
  const move = <T extends { insnOff: number }>(records: readonly T[] | undefined, into: T[]): void => {
    for (const r of records ?? []) {
      const slot = r.insnOff / 8;
      if (slot >= fn.start && slot < fn.end) into.push({ ...r, insnOff: (base + slot - fn.start) * 8 });
    }
  };
  move(ext.funcInfos.get(name), out.funcInfo);
  move(ext.lineInfos.get(name), out.lineInfo);
  move(ext.coreRelos.get(name), out.coreRelos);
}
