/**
 * Context access conversion: the VM's version of the kernel's convert_ctx_access.
 *
 * A program type describes the context struct the program sees (`ContextLayout`): which byte
 * ranges may be read or written, with which sizes. The VM's context region starts with the same
 * bytes, followed by 8-byte pointer slots: the 32-bit `data`/`data_end` fields of xdp_md and
 * __sk_buff cannot hold a 64-bit VM address, so a load of such a field is rewritten at load time
 * into a 64-bit load of its slot (`ldxw r2, [r1+0]` becomes `ldxdw r2, [r1+24]`).
 *
 * Which loads and stores use the context is found by a small dataflow pass over the program:
 * r1 holds the context at entry; the pass follows copies (`mov rX, rY`), 8-byte spills to and
 * fills from fixed stack slots (`[r10-off]`), branches, and BPF-to-BPF calls (r1-r5 passed on).
 * Accesses through the context are checked against the layout (a bad one refuses the program at
 * load, naming the instruction); through a context pointer moved by arithmetic, or through a
 * register that holds the context on one path and something else on another, they are refused
 * as the kernel does. Limits: a context pointer passed through memory other than an 8-byte stack
 * slot, or handed to a callback (bpf_loop's ctx argument), is not followed: such accesses are
 * not checked and not converted (they reach the context region's plain bytes).
 */
import type { Instruction } from "../../isa/instruction.js";
import { slotIndexes } from "../../isa/instruction.js";
import {
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  PseudoLd,
  Size,
  SIZE_BYTES,
} from "../../isa/opcodes.js";
import { describeInstruction, ProgramLoadError } from "../fault.js";

export type ContextAccessKind = "read" | "write" | "read-write";

/** One field of a context struct. */
export interface ContextField {
  readonly name: string;
  readonly offset: number;
  /** Size in bytes (1, 2, 4 or 8). */
  readonly size: number;
  readonly access: ContextAccessKind;
  /** Reads of part of the field (1 or 2 bytes of a u32) are allowed, as the kernel allows for most u32 fields. */
  readonly narrow?: boolean;
  /** A packet pointer: a full-size read loads the 8-byte address at this offset of the VM context. */
  readonly pointerSlot?: number;
}

/** The context struct of a program type, as the program sees it. */
export interface ContextLayout {
  /** For messages: "struct xdp_md". */
  readonly name: string;
  /** Size of the struct the program sees (bytes). */
  readonly size: number;
  /** Size of the VM's context region: `size` plus the pointer slots. */
  readonly vmSize: number;
  /**
   * The accessible fields; undefined for raw contexts (syscall, tracepoints), where any access is
   * left to the run-time bounds check of the context region.
   */
  readonly fields?: readonly ContextField[];
}

/** A program refused because of a context access (the kernel's "invalid bpf_context access"). */
export class ContextAccessError extends ProgramLoadError {
  override name = "ContextAccessError";
}

const OTHER = 1;
const CTX = 2;
const CTX_MOVED = 3;
const MIXED = 4;

interface State {
  readonly regs: number[];
  readonly stack: Map<number, number>;
}

const join = (a: number, b: number): number => (a === b ? a : a === 0 ? b : b === 0 ? a : MIXED);

/** Describe what a layout allows, for messages. */
export function describeLayout(layout: ContextLayout): string {
  if (!layout.fields) return `${layout.name} (${layout.size} bytes)`;
  const sizes: Record<number, string> = { 1: "u8", 2: "u16", 4: "u32", 8: "u64" };
  const items = layout.fields.map(
    (f) => `${f.access} ${sizes[f.size] ?? `${f.size} bytes`} ${f.name} at ${f.offset}`,
  );
  return `${layout.name}: ${items.join(", ")}`;
}

/**
 * Check the context accesses of `program` against `layout` and return the program with pointer
 * field loads rewritten (the same array when nothing changed). Throws ContextAccessError.
 */
export function convertContextAccess(
  program: readonly Instruction[],
  layout: ContextLayout,
  programName?: string,
): readonly Instruction[] {
  const n = program.length;
  if (n === 0) return program;
  const slotOf = slotIndexes(program);
  const indexOfSlot = new Map<number, number>();
  slotOf.forEach((s, i) => indexOfSlot.set(s, i));
  const states: (State | undefined)[] = new Array(n);
  const rewrites = new Map<number, Instruction>();
  const work: number[] = [];

  const refuse = (i: number, why: string): never => {
    throw new ContextAccessError(`${why} (${describeInstruction(program[i]!)})`, slotOf[i], programName);
  };
  const merge = (i: number, st: State): void => {
    if (i < 0 || i >= n) return;
    const old = states[i];
    if (!old) {
      states[i] = { regs: [...st.regs], stack: new Map(st.stack) };
      work.push(i);
      return;
    }
    let changed = false;
    for (let r = 0; r < 11; r++) {
      const v = join(old.regs[r]!, st.regs[r]!);
      if (v !== old.regs[r]) {
        old.regs[r] = v;
        changed = true;
      }
    }
    for (const key of new Set([...old.stack.keys(), ...st.stack.keys()])) {
      const v = join(old.stack.get(key) ?? OTHER, st.stack.get(key) ?? OTHER);
      if (v !== (old.stack.get(key) ?? OTHER)) {
        old.stack.set(key, v);
        changed = true;
      }
    }
    if (changed) work.push(i);
  };
  const target = (i: number, delta: number): number => indexOfSlot.get(slotOf[i]! + 1 + delta) ?? -1;
  const fresh = (regs: number[]): State => ({ regs, stack: new Map() });

  merge(0, fresh([OTHER, CTX, OTHER, OTHER, OTHER, OTHER, OTHER, OTHER, OTHER, OTHER, OTHER]));

  const access = (
    i: number,
    base: number,
    off: number,
    size: number,
    write: boolean,
    signed: boolean,
  ): void => {
    if (base === MIXED) refuse(i, "the same instruction accesses the context and other memory");
    if (base === CTX_MOVED) refuse(i, `dereference of a modified ${layout.name} pointer`);
    if (base !== CTX || !layout.fields) return;
    const insn = program[i]!;
    const what = `${write ? "write" : "read"} of ${size} byte${size === 1 ? "" : "s"} at offset ${off}`;
    const field = layout.fields.find((f) => off >= f.offset && off + size <= f.offset + f.size);
    const allowed =
      field !== undefined &&
      (write ? field.access !== "read" : field.access !== "write") &&
      (size === field.size || (!write && field.narrow === true && field.pointerSlot === undefined));
    if (!field || !allowed)
      return refuse(
        i,
        `invalid context access: ${what} of ${layout.name}; allowed: ${describeLayout(layout).replace(/^[^:]*: /, "")}`,
      );
    if (field.pointerSlot !== undefined) {
      if (write || signed) refuse(i, `invalid context access: ${what} of pointer field ${field.name}`);
      rewrites.set(i, { ...insn, code: Class.LDX | Mode.MEM | Size.DW, off: field.pointerSlot });
    }
  };
  const clobberStack = (st: State, off: number, size: number): void => {
    for (const key of [...st.stack.keys()]) if (key < off + size && key + 8 > off) st.stack.delete(key);
  };

  while (work.length > 0) {
    const i = work.pop()!;
    const insn = program[i]!;
    const st: State = { regs: [...states[i]!.regs], stack: new Map(states[i]!.stack) };
    const r = st.regs;
    const cls = insn.code & 0x07;
    const mode = insn.code & 0xe0;
    const size = SIZE_BYTES[(insn.code & 0x18) as Size];
    let next = true;
    if (cls === Class.ALU64 || cls === Class.ALU) {
      const op = insn.code & 0xf0;
      if (insn.code === (Class.ALU64 | 0x08 | 0xb0) && insn.off === 0) r[insn.dst] = r[insn.src]!;
      else if (
        cls === Class.ALU64 &&
        (op === 0x00 || op === 0x10) &&
        (r[insn.dst] === CTX || r[insn.dst] === CTX_MOVED)
      )
        r[insn.dst] = CTX_MOVED;
      else r[insn.dst] = OTHER;
    } else if (cls === Class.LDX) {
      access(i, r[insn.src]!, insn.off, size, false, mode === Mode.MEMSX);
      r[insn.dst] = insn.src === 10 && size === 8 ? (st.stack.get(insn.off) ?? OTHER) : OTHER;
    } else if (cls === Class.ST || cls === Class.STX) {
      if (cls === Class.STX && mode === Mode.ATOMIC) {
        if (r[insn.dst] === CTX || r[insn.dst] === CTX_MOVED || r[insn.dst] === MIXED)
          refuse(i, `atomic operation on the ${layout.name} context`);
        if (insn.dst === 10) clobberStack(st, insn.off, size);
        if (insn.imm === AtomicOp.CMPXCHG) r[0] = OTHER;
        else if (insn.imm & AtomicOp.FETCH || insn.imm === AtomicOp.LOAD_ACQ)
          r[insn.imm === AtomicOp.LOAD_ACQ ? insn.dst : insn.src] = OTHER;
      } else {
        access(i, r[insn.dst]!, insn.off, size, true, false);
        if (insn.dst === 10) {
          clobberStack(st, insn.off, size);
          if (cls === Class.STX && size === 8) st.stack.set(insn.off, r[insn.src]!);
        }
      }
    } else if (insn.code === LDDW) {
      r[insn.dst] = OTHER;
      if (insn.src === PseudoLd.FUNC) merge(target(i, insn.imm), fresh(new Array<number>(11).fill(OTHER)));
    } else if (cls === Class.LD) {
      for (let k = 0; k <= 5; k++) r[k] = OTHER; // LD_ABS / LD_IND clobber r0-r5
    } else if (cls === Class.JMP || cls === Class.JMP32) {
      const op = insn.code & 0xf0;
      if (insn.code === (Class.JMP | JumpOp.CALL)) {
        if (insn.src === PseudoCall.CALL) {
          const callee = new Array<number>(11).fill(OTHER);
          for (let k = 1; k <= 5; k++) callee[k] = r[k]!;
          merge(target(i, insn.imm), fresh(callee));
        }
        for (let k = 0; k <= 5; k++) r[k] = OTHER;
      } else if (insn.code === (Class.JMP | 0x08 | JumpOp.CALL)) {
        for (let k = 0; k <= 5; k++) r[k] = OTHER;
      } else if (op === JumpOp.EXIT) {
        next = false;
      } else if (op === JumpOp.JA) {
        merge(target(i, cls === Class.JMP32 ? insn.imm : insn.off), st);
        next = false;
      } else {
        merge(target(i, insn.off), st);
      }
    }
    if (next) merge(i + 1, st);
  }
  if (rewrites.size === 0) return program;
  return program.map((insn, i) => rewrites.get(i) ?? insn);
}
