/**
 * Executable sections: their functions (from STT_FUNC symbols) and the relocations of their
 * instructions. Relocations are turned into fixups on a copy of the section's instructions:
 * the backend-independent fields (src, offsets in imm2) are set here, and what needs a runtime
 * value (map fd, kfunc BTF id) or a final layout (call offsets) is kept as a Fixup.
 */
import type { ElfRelocation, ElfSection } from "../elf/index.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_ABS64,
  R_BPF_64_NODYLD32,
  R_BPF_NONE,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  STB_LOCAL,
  STT_FUNC,
  STT_SECTION,
} from "../elf/index.js";
import type { Instruction } from "../isa/index.js";
import { Class, decode, JumpOp, LDDW, PseudoCall, PseudoLd, slotsOf } from "../isa/index.js";
import { sectionError, type LoadContext } from "./context.js";
import type { Externs } from "./externs.js";
import { locationKey, type MutableMap } from "./maps.js";

const CALL = Class.JMP | JumpOp.CALL;

/** One function of an executable section, in slots (8-byte units) of that section. */
export interface FunctionDef {
  readonly name: string;
  readonly section: CodeSection;
  readonly start: number;
  readonly end: number;
  readonly linkage: "static" | "global";
}

export type Fixup =
  | { readonly kind: "map"; readonly map: MutableMap }
  | { readonly kind: "map-value"; readonly map: MutableMap; readonly offset: number }
  | { readonly kind: "kfunc"; readonly name: string; readonly weak: boolean }
  | { readonly kind: "ksym"; readonly name: string; readonly weak: boolean; readonly typed: boolean }
  /** BPF-to-BPF call or function address: the target is slot `slot` of code section `section`. */
  | { readonly kind: "call"; readonly section: number; readonly slot: number }
  | { readonly kind: "func-addr"; readonly section: number; readonly slot: number };

export interface CodeSection {
  readonly section: ElfSection;
  /** Instructions after relocation (src/imm2 set, imm of references zeroed). */
  readonly insns: Instruction[];
  /** Slot of each instruction, plus the total slot count at the end. */
  readonly slotOf: number[];
  /** Instruction index at each slot; -1 for the second slot of an lddw. */
  readonly indexAt: Int32Array;
  readonly fixups: Map<number, Fixup>;
  readonly functions: FunctionDef[];
}

export interface CodeInputs {
  readonly mapsByLocation: ReadonlyMap<string, MutableMap>;
  readonly mapSections: ReadonlySet<number>;
  readonly dataMaps: ReadonlyMap<number, MutableMap>;
  readonly kconfigMap: MutableMap | undefined;
  readonly externs: Externs;
}

/** Decodes every executable section and finds its functions. */
export function collectCode(ctx: LoadContext): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  for (const section of ctx.elf.executableSections) {
    if (section.size === 0) continue;
    let insns: Instruction[];
    try {
      insns = decode(section.data, { file: ctx.file, validate: true });
    } catch (e) {
      throw sectionError(ctx, section, 0, `bad instructions: ${(e as Error).message}`);
    }
    const slotOf: number[] = [];
    const indexAt = new Int32Array(section.size / 8).fill(-1);
    let slot = 0;
    insns.forEach((insn, i) => {
      slotOf.push(slot);
      indexAt[slot] = i;
      slot += slotsOf(insn);
    });
    slotOf.push(slot);
    const code: CodeSection = { section, insns, slotOf, indexAt, fixups: new Map(), functions: [] };
    code.functions.push(...findFunctions(ctx, code));
    out.set(section.index, code);
  }
  return out;
}

function findFunctions(ctx: LoadContext, code: CodeSection): FunctionDef[] {
  const { section } = code;
  const total = code.slotOf[code.slotOf.length - 1]!;
  const syms = ctx.elf.symbolsIn(section).filter((s) => s.type === STT_FUNC && s.name !== "");
  if (syms.length === 0) {
    // Hand-written or stripped code: the whole section is one function named after it.
    if (section.name === ".text") return [];
    return [
      {
        name: section.name.replace(/[^A-Za-z0-9_]/g, "_"),
        section: code,
        start: 0,
        end: total,
        linkage: "global",
      },
    ];
  }
  const out: FunctionDef[] = [];
  const seen = new Set<number>();
  syms.forEach((sym, i) => {
    if (sym.value % 8 !== 0 || sym.value >= section.size)
      throw sectionError(
        ctx,
        section,
        Math.min(sym.value, section.size),
        `function '${sym.name}' does not start on an instruction`,
      );
    const start = sym.value / 8;
    if (seen.has(start)) return; // an alias of a function already listed
    seen.add(start);
    const next = syms.slice(i + 1).find((s) => s.value > sym.value);
    const bytes = sym.size || (next ? next.value : section.size) - sym.value;
    if (bytes % 8 !== 0 || sym.value + bytes > section.size)
      throw sectionError(
        ctx,
        section,
        sym.value,
        `function '${sym.name}' size ${bytes} is not a whole number of instructions in the section`,
      );
    const end = start + bytes / 8;
    if (code.indexAt[start] === -1 || (end < total && code.indexAt[end] === -1))
      throw sectionError(ctx, section, sym.value, `function '${sym.name}' splits an lddw`);
    out.push({
      name: sym.name,
      section: code,
      start,
      end,
      linkage: sym.bind === STB_LOCAL ? "static" : "global",
    });
  });
  return out.sort((a, b) => a.start - b.start);
}

/** The function of `code` that contains `slot`. */
export function functionAt(code: CodeSection, slot: number): FunctionDef | undefined {
  return code.functions.find((f) => slot >= f.start && slot < f.end);
}

/** Applies the relocations of every code section, recording fixups. */
export function relocateCode(ctx: LoadContext, code: Map<number, CodeSection>, inputs: CodeInputs): void {
  for (const c of code.values()) {
    for (const rel of ctx.elf.relocationsFor(c.section)) relocateOne(ctx, c, rel, inputs, code);
    // Calls (and function addresses) to static functions of the same section carry no relocation.
    c.insns.forEach((insn, i) => {
      if (c.fixups.has(i)) return;
      const local =
        (insn.code === CALL && insn.src === PseudoCall.CALL) ||
        (insn.code === LDDW && insn.src === PseudoLd.FUNC);
      if (!local) return;
      const slot = c.slotOf[i]! + insn.imm + 1;
      checkTarget(ctx, c, c.slotOf[i]! * 8, c, slot);
      c.fixups.set(i, {
        kind: insn.code === CALL ? "call" : "func-addr",
        section: c.section.index,
        slot,
      } as Fixup);
    });
  }
}

function checkTarget(
  ctx: LoadContext,
  from: CodeSection,
  at: number,
  target: CodeSection,
  slot: number,
): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= target.indexAt.length || target.indexAt[slot] === -1)
    throw sectionError(
      ctx,
      from.section,
      at,
      `call target ${slot} is not an instruction of ${target.section.name}`,
    );
  if (!functionAt(target, slot))
    throw sectionError(
      ctx,
      from.section,
      at,
      `call target ${slot} of ${target.section.name} is in no function`,
    );
}

function relocateOne(
  ctx: LoadContext,
  c: CodeSection,
  rel: ElfRelocation,
  inputs: CodeInputs,
  code: Map<number, CodeSection>,
): void {
  const at = rel.offset;
  const fail = (msg: string): never => {
    throw sectionError(ctx, c.section, at, msg);
  };
  if (rel.type === R_BPF_NONE) return;
  if (rel.type === R_BPF_64_ABS64 || rel.type === R_BPF_64_ABS32 || rel.type === R_BPF_64_NODYLD32)
    fail(`data relocation type ${rel.type} applied to code`);
  if (rel.type !== R_BPF_64_64 && rel.type !== R_BPF_64_32) fail(`unknown relocation type ${rel.type}`);
  if (at % 8 !== 0) fail("relocation is not on an instruction boundary");
  const index = c.indexAt[at / 8] ?? -1;
  if (index < 0) fail("relocation points into the middle of an lddw");
  const insn = c.insns[index]!;
  const isLddw = insn.code === LDDW;
  const isCall = insn.code === CALL;
  if (rel.type === R_BPF_64_64 && !isLddw)
    fail(`R_BPF_64_64 on opcode 0x${insn.code.toString(16)} (needs lddw)`);
  if (rel.type === R_BPF_64_32 && !isCall)
    fail(`R_BPF_64_32 on opcode 0x${insn.code.toString(16)} (needs a call)`);
  const sym = rel.symbol;
  const name = sym.name || `symbol #${sym.index}`;
  const addend = rel.addend ?? 0;
  const set = (fields: Partial<Instruction>): void => {
    c.insns[index] = { ...insn, ...fields };
  };

  if (sym.sectionIndex === SHN_UNDEF) {
    if (sym.index === 0) fail("relocation against the null symbol");
    const ext = inputs.externs.byName.get(sym.name);
    if (isCall) {
      if (ext?.kconfig) fail(`call to .kconfig variable '${name}'`);
      set({ src: PseudoCall.KFUNC, imm: 0, off: 0 });
      c.fixups.set(index, { kind: "kfunc", name: sym.name, weak: ext?.ksym?.weak ?? false });
      return;
    }
    if (ext?.kconfig) {
      const map = inputs.kconfigMap ?? fail("internal: .kconfig extern without its map");
      const offset = ext.kconfig.offset + insn.imm + addend;
      set({ src: PseudoLd.MAP_VALUE, imm: 0, imm2: offset });
      c.fixups.set(index, { kind: "map-value", map, offset });
      return;
    }
    const ksym = ext?.ksym ?? fail(`extern '${name}' is neither .kconfig nor .ksyms`);
    if (ksym.kind === "func" && ksym.btfId !== 0)
      fail(`address of kernel function '${name}' is not supported`);
    set({ src: ksym.typed ? PseudoLd.BTF_ID : PseudoLd.IMM64, imm: 0, imm2: 0 });
    c.fixups.set(index, { kind: "ksym", name: sym.name, weak: ksym.weak, typed: ksym.typed });
    return;
  }
  if (sym.sectionIndex === SHN_COMMON) fail(`common symbol '${name}' (compile with -fno-common)`);
  if (sym.sectionIndex >= SHN_LORESERVE) fail(`relocation against absolute symbol '${name}'`);

  const target = code.get(sym.sectionIndex);
  if (target) {
    if (isCall) {
      if (sym.value % 8 !== 0) fail(`call target '${name}' is not on an instruction boundary`);
      const slot = sym.value / 8 + insn.imm + 1;
      checkTarget(ctx, c, at, target, slot);
      c.fixups.set(index, { kind: "call", section: target.section.index, slot });
      return;
    }
    const bytes = sym.value + insn.imm + addend;
    if (bytes % 8 !== 0) fail(`function address '${name}'+${insn.imm} is not on an instruction boundary`);
    checkTarget(ctx, c, at, target, bytes / 8);
    set({ src: PseudoLd.FUNC, imm2: 0 });
    c.fixups.set(index, { kind: "func-addr", section: target.section.index, slot: bytes / 8 });
    return;
  }
  if (isCall) fail(`call to '${name}', which is not code`);

  if (inputs.mapSections.has(sym.sectionIndex)) {
    const loc = sym.value + (sym.type === STT_SECTION ? insn.imm : 0);
    const map =
      inputs.mapsByLocation.get(locationKey(sym.sectionIndex, loc)) ??
      fail(`'${name}' is not the start of a map definition`);
    set({ src: PseudoLd.MAP_FD, imm: 0, imm2: 0 });
    c.fixups.set(index, { kind: "map", map });
    return;
  }
  const data = inputs.dataMaps.get(sym.sectionIndex);
  if (data) {
    const offset = sym.value + insn.imm + addend;
    if (offset < 0 || offset > data.valueSize)
      fail(`offset ${offset} is outside ${data.section} (${data.valueSize} bytes)`);
    set({ src: PseudoLd.MAP_VALUE, imm: 0, imm2: offset });
    c.fixups.set(index, { kind: "map-value", map: data, offset });
    return;
  }
  const where = ctx.elf.sections[sym.sectionIndex]?.name ?? `#${sym.sectionIndex}`;
  fail(`relocation against '${name}' in section ${where}, which is not code, a map or global data`);
}
