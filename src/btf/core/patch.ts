/**
 * Writing a relocation's value into its instruction (libbpf's bpf_core_patch_insn):
 *   rX = imm, rX += imm            ALU/ALU64 with an immediate (clang emits mov, add): imm := value
 *   rX = *(T *)(rY + off), stores  LDX/ST/STX: off := value, and for a field whose size changed
 *                                  the access size follows it (pointers and unsigned integers only)
 *   rX = imm64 ll                  lddw: the 64-bit constant := value
 * An instruction that cannot be relocated is poisoned: it becomes `call 0xbad2310`, an unknown
 * helper that fails the program only if it runs (the kernel verifier reports
 * "invalid func unknown#195896080"). A poisoned lddw becomes `r10 = 0xbad2310 ll` instead,
 * a write to the read-only frame pointer, so that it keeps its two slots (as cilium/ebpf does).
 */
import {
  Class,
  JumpOp,
  LDDW,
  MODE_MASK,
  SIZE_BYTES,
  SIZE_MASK,
  Size,
  Source,
  classOf,
  type Instruction,
  lddwValue,
  splitImm64,
} from "../../isa/index.js";
import type { CoreReloValue } from "./calc.js";

/** The helper id of a poisoned instruction: 0xbad2310 ("bad relo"). */
export const CORE_POISON_HELPER = 0xbad2310;

/** `call 0xbad2310`: what libbpf writes over an instruction whose relocation failed. */
export const CORE_POISON_CALL: Instruction = Object.freeze({
  code: Class.JMP | JumpOp.CALL | Source.K,
  dst: 0,
  src: 0,
  off: 0,
  imm: CORE_POISON_HELPER,
});

/** `r10 = 0xbad2310 ll`: a poisoned lddw (keeps the instruction's two slots). */
export const CORE_POISON_LDDW: Instruction = Object.freeze({
  code: LDDW,
  dst: 10,
  src: 0,
  off: 0,
  imm: CORE_POISON_HELPER,
  imm2: 0,
});

/** True for an instruction written by CO-RE poisoning. */
export function isPoisonedInstruction(insn: Instruction): boolean {
  if (insn.code === LDDW) return insn.dst === 10 && insn.src === 0 && insn.imm === CORE_POISON_HELPER;
  return insn.code === CORE_POISON_CALL.code && insn.src === 0 && insn.imm === CORE_POISON_HELPER;
}

/** The poisoned form of an instruction. */
export function poisonInstruction(insn: Instruction): Instruction {
  return insn.code === LDDW ? CORE_POISON_LDDW : CORE_POISON_CALL;
}

/** The instruction is not one a relocation can patch, or does not hold the value clang should have put there. */
export type PatchOutcome =
  | { readonly ok: true; readonly insn: Instruction; readonly poisoned: boolean; readonly note?: string }
  | { readonly ok: false; readonly reason: string };

const SIZE_OF_BYTES: Readonly<Record<number, Size>> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

/** Patches one instruction with a relocation's value (the instruction is not modified). */
export function patchInstruction(insn: Instruction, r: CoreReloValue): PatchOutcome {
  if (r.poison) return { ok: true, insn: poisonInstruction(insn), poisoned: true };
  const cls = classOf(insn.code);
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      if ((insn.code & Source.X) !== 0)
        return { ok: false, reason: "ALU instruction with a register operand" };
      if (r.validate && u64(insn.imm) !== r.localValue) {
        return { ok: false, reason: `ALU immediate is ${insn.imm}, expected ${r.localValue}` };
      }
      return { ok: true, insn: { ...insn, imm: Number(BigInt.asIntN(32, r.targetValue)) }, poisoned: false };
    }
    case Class.LDX:
    case Class.ST:
    case Class.STX: {
      if (r.validate && u64(insn.off) !== r.localValue) {
        return { ok: false, reason: `memory offset is ${insn.off}, expected ${r.localValue}` };
      }
      if (r.targetValue > 0x7fffn) {
        return { ok: false, reason: `offset ${r.targetValue} does not fit the 16-bit offset field` };
      }
      if (r.failMemSizeAdjust) {
        return {
          ok: true,
          insn: poisonInstruction(insn),
          poisoned: true,
          note:
            `the field is ${r.localSize} bytes locally and ${r.targetSize} in the target: ` +
            "only pointers, unsigned integers, or fields of matching type and size can be accessed",
        };
      }
      let code = insn.code;
      if (r.targetSize !== r.localSize) {
        const bytes = SIZE_BYTES[(insn.code & SIZE_MASK) as Size];
        if (bytes !== r.localSize) {
          return { ok: false, reason: `memory access of ${bytes} bytes, expected ${r.localSize}` };
        }
        const size = SIZE_OF_BYTES[r.targetSize];
        if (size === undefined) return { ok: false, reason: `no load/store of ${r.targetSize} bytes` };
        code = (insn.code & MODE_MASK) | size | cls;
      }
      return { ok: true, insn: { ...insn, code, off: Number(r.targetValue) }, poisoned: false };
    }
    case Class.LD: {
      if (insn.code !== LDDW || insn.src !== 0 || insn.off !== 0) {
        return { ok: false, reason: "LD instruction that is not a plain lddw" };
      }
      if (r.validate && lddwValue(insn) !== r.localValue) {
        return { ok: false, reason: `lddw constant is ${lddwValue(insn)}, expected ${r.localValue}` };
      }
      return { ok: true, insn: { ...insn, ...splitImm64(r.targetValue) }, poisoned: false };
    }
    default:
      return {
        ok: false,
        reason: `instruction of class ${Class[cls]} (code 0x${insn.code.toString(16)}) cannot be relocated`,
      };
  }
}
