import type { Instruction } from "../isa/instruction.js";
import { slotsOf } from "../isa/instruction.js";
import {
  AluOp,
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  PseudoLd,
  FRAME_POINTER,
  Source,
} from "../isa/opcodes.js";
import { checkInstruction } from "../isa/validity.js";
import { ProgramLoadError, type FaultKind } from "./fault.js";
import type { HelperFunction, HelperRegistry } from "./helper-registry.js";

/**
 * Pre-decoding of a program for the interpreter's hot loop.
 *
 * Each 8-byte slot becomes 4 int32 words in one Int32Array:
 *   [0] op | dst << 8 | src << 12   (op: the opcode byte, or one of the internal ops below)
 *   [1] off; for jumps and local calls the absolute target slot
 *   [2] imm
 *   [3] lddw: imm of the second slot; helper call: index into `helpers`; trap: index into `traps`
 * One extra slot past the end traps ("fell off the end"); the second slot of an lddw traps too
 * (no valid jump reaches it).
 */

/** Internal ops, placed on opcode bytes that are not valid instructions. */
export const OP_TRAP = 0x00; // LD|IMM|W: invalid
export const OP_MOVSX64_8 = 0x01; // LDX|IMM|W: invalid
export const OP_MOVSX64_16 = 0x09;
export const OP_MOVSX64_32 = 0x11;
export const OP_MOVSX32_8 = 0x02; // ST|IMM|W: invalid
export const OP_MOVSX32_16 = 0x0a;
export const OP_CALL_LOCAL = 0x03; // STX|IMM|W: invalid

/** High word of the value `lddw rX, func` loads: a code pointer, not a memory address. */
export const FUNCTION_POINTER_TAG = 0x7ffffff0;

export interface Trap {
  readonly kind: FaultKind;
  readonly detail: string;
  readonly cause?: unknown;
}

/** Resolves lddw pseudo sources (map fds, map values, BTF ids…) to 64-bit values. */
export type PseudoResolver = (insn: Instruction, index: number) => bigint | undefined;

/**
 * Resolves a kfunc call (`call` with src 2) at instruction `index` to an implementation, called
 * like a helper (its `call.id` is the instruction's imm). Undefined refuses the program at load.
 */
export type KfuncResolver = (
  insn: Instruction,
  index: number,
) => { readonly name: string; readonly fn: HelperFunction } | undefined;

export interface LoadedProgram {
  readonly name: string | undefined;
  readonly code: Int32Array;
  readonly slots: number;
  /** The instruction starting at each slot (undefined for the second slot of an lddw and the end). */
  readonly instructionAt: readonly (Instruction | undefined)[];
  readonly helpers: readonly HelperFunction[];
  readonly helperIds: readonly number[];
  readonly traps: readonly Trap[];
  readonly registry: HelperRegistry;
}

const isInt = (v: number, bits: number): boolean =>
  Number.isInteger(v) && v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1);

/** Whether an instruction writes register `reg` (used to trap writes to r10). */
function writesRegister(insn: Instruction, reg: number): boolean {
  const cls = insn.code & 0x07;
  const mode = insn.code & 0xe0;
  if (cls === Class.ALU || cls === Class.ALU64) return insn.dst === reg;
  if (insn.code === LDDW || cls === Class.LDX) return insn.dst === reg;
  if (cls === Class.STX && mode === Mode.ATOMIC) {
    if (insn.imm === AtomicOp.LOAD_ACQ) return insn.dst === reg;
    if (insn.imm === AtomicOp.CMPXCHG) return reg === 0;
    return (insn.imm & AtomicOp.FETCH) !== 0 && insn.src === reg;
  }
  return false;
}

/** Pre-decode and check a program. Throws ProgramLoadError. */
export function loadProgram(
  program: readonly Instruction[],
  registry: HelperRegistry,
  resolvePseudo: PseudoResolver | undefined,
  name: string | undefined,
  resolveKfunc?: KfuncResolver,
  poisoned?: (index: number) => Error | undefined,
): LoadedProgram {
  if (program.length === 0) throw new ProgramLoadError("empty program", undefined, name);
  // Slot index of every instruction.
  const slotOf = new Array<number>(program.length);
  let slots = 0;
  for (let i = 0; i < program.length; i++) {
    const insn = program[i]!;
    if (
      !Number.isInteger(insn.code) ||
      insn.code < 0 ||
      insn.code > 255 ||
      !Number.isInteger(insn.dst) ||
      insn.dst < 0 ||
      insn.dst > 15 ||
      !Number.isInteger(insn.src) ||
      insn.src < 0 ||
      insn.src > 15 ||
      !isInt(insn.off, 16) ||
      !isInt(insn.imm, 32) ||
      (insn.imm2 !== undefined && !isInt(insn.imm2, 32))
    )
      throw new ProgramLoadError("instruction fields out of range", slots, name);
    slotOf[i] = slots;
    slots += slotsOf(insn);
  }
  const code = new Int32Array((slots + 1) * 4);
  const instructionAt: (Instruction | undefined)[] = new Array(slots + 1).fill(undefined);
  const isStart = new Uint8Array(slots + 1);
  for (let i = 0; i < program.length; i++) isStart[slotOf[i]!] = 1;
  const traps: Trap[] = [];
  const trap = (at: number, kind: FaultKind, detail: string, cause?: unknown) => {
    code[at * 4] = OP_TRAP;
    code[at * 4 + 3] = traps.length;
    traps.push(cause === undefined ? { kind, detail } : { kind, detail, cause });
  };
  const helpers: HelperFunction[] = [];
  const helperIds: number[] = [];
  const helperIndex = new Map<number, number>();

  const target = (at: number, delta: number, what: string): number => {
    const t = at + 1 + delta;
    if (t < 0 || t >= slots)
      throw new ProgramLoadError(`${what} target ${t} out of range 0..${slots - 1}`, at, name);
    if (!isStart[t]) throw new ProgramLoadError(`${what} target ${t} is the middle of an lddw`, at, name);
    return t;
  };

  for (let i = 0; i < program.length; i++) {
    const insn = program[i]!;
    const at = slotOf[i]!;
    instructionAt[at] = insn;
    const poison = poisoned?.(i);
    if (poison) {
      // not checked: a poisoned lddw writes r10, a poisoned call names no helper
      trap(at, "poisoned", poison.message, poison);
      if (insn.code === LDDW) trap(at + 1, "fell-off-end", "jump into the middle of an lddw");
      continue;
    }
    const problem = checkInstruction(insn);
    if (problem) throw new ProgramLoadError(problem, at, name);
    const base = at * 4;
    const cls = insn.code & 0x07;
    const op = insn.code & 0xf0;
    let w0 = insn.code;
    let w1 = insn.off;
    let w3 = 0;
    if (cls === Class.JMP || cls === Class.JMP32) {
      if (insn.code === (Class.JMP | JumpOp.CALL)) {
        if (insn.src === PseudoCall.CALL) {
          w0 = OP_CALL_LOCAL;
          w1 = target(at, insn.imm, "call");
        } else if (insn.src === PseudoCall.KFUNC) {
          const kfunc = resolveKfunc?.(insn, i);
          if (!kfunc)
            throw new ProgramLoadError(
              `kfunc call (BTF id ${insn.imm}) not supported by the interpreter`,
              at,
              name,
            );
          w3 = helpers.length;
          helpers.push(kfunc.fn);
          helperIds.push(insn.imm);
        } else {
          const entry = registry.get(insn.imm);
          if (!entry) throw new ProgramLoadError(`unknown helper id ${insn.imm}`, at, name);
          let index = helperIndex.get(insn.imm);
          if (index === undefined) {
            index = helpers.length;
            helpers.push(entry.fn);
            helperIds.push(insn.imm);
            helperIndex.set(insn.imm, index);
          }
          w3 = index;
        }
      } else if (insn.code === (Class.JMP32 | JumpOp.JA)) {
        w1 = target(at, insn.imm, "gotol");
      } else if (op !== JumpOp.EXIT && insn.code !== (Class.JMP | Source.X | JumpOp.CALL)) {
        w1 = target(at, insn.off, "jump");
      }
    } else if (insn.code === LDDW) {
      w3 = insn.imm2 ?? 0;
      if (insn.src === PseudoLd.FUNC) {
        w1 = 0;
        const t = target(at, insn.imm, "function");
        code[base + 2] = t;
        w3 = FUNCTION_POINTER_TAG;
      } else if (insn.src !== PseudoLd.IMM64) {
        const value = resolvePseudo?.(insn, i);
        if (value === undefined) {
          const what = PSEUDO_NAMES[insn.src] ?? `pseudo source ${insn.src}`;
          trap(at, "unresolved-reference", `unresolved ${what} reference (imm ${insn.imm}) in lddw`);
          trap(at + 1, "fell-off-end", "jump into the middle of an lddw");
          continue;
        }
        const v = BigInt.asUintN(64, value);
        code[base + 2] = Number(BigInt.asIntN(32, v & 0xffffffffn));
        w3 = Number(BigInt.asIntN(32, v >> 32n));
      }
    } else if (insn.code === (Class.ALU64 | Source.X | AluOp.MOV) && insn.off !== 0) {
      w0 = insn.off === 8 ? OP_MOVSX64_8 : insn.off === 16 ? OP_MOVSX64_16 : OP_MOVSX64_32;
    } else if (insn.code === (Class.ALU | Source.X | AluOp.MOV) && insn.off !== 0) {
      w0 = insn.off === 8 ? OP_MOVSX32_8 : OP_MOVSX32_16;
    }
    code[base] = w0 | (insn.dst << 8) | (insn.src << 12);
    code[base + 1] = w1;
    if (insn.code !== LDDW || insn.src === PseudoLd.IMM64) code[base + 2] = insn.imm;
    code[base + 3] = w3;
    if (insn.code === LDDW) trap(at + 1, "fell-off-end", "jump into the middle of an lddw");
    if (writesRegister(insn, FRAME_POINTER))
      trap(at, "read-only-register", "write to r10, the read-only frame pointer");
  }
  trap(slots, "fell-off-end", "execution ran past the last instruction (no exit)");
  return { name, code, slots, instructionAt, helpers, helperIds, traps, registry };
}

const PSEUDO_NAMES: Record<number, string> = {
  [PseudoLd.MAP_FD]: "map fd",
  [PseudoLd.MAP_VALUE]: "map value",
  [PseudoLd.BTF_ID]: "BTF id",
  [PseudoLd.MAP_IDX]: "map index",
  [PseudoLd.MAP_IDX_VALUE]: "map index value",
};
