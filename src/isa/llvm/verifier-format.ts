import type { Instruction } from "../instruction.js";
import { lddwValue } from "../instruction.js";
import {
  AluOp,
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  Size,
  Source,
  OP_MASK,
  SIZE_MASK,
  MODE_MASK,
} from "../opcodes.js";
import { helperById } from "../helpers.js";
import {
  ALU_OPERATORS,
  ATOMIC_FETCH_NAMES,
  ATOMIC_LOCK_OPERATORS,
  JUMP_OPERATORS,
  SIGNED_ALU_OPERATORS,
  SIGNED_SIZE_TYPES,
  SIZE_TYPES,
} from "./syntax.js";

/** printf's %+d. */
const plus = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const mem = (reg: number, off: number): string => `r${reg} ${plus(off)}`;

/**
 * One instruction as the kernel's verifier log and `bpftool prog dump xlated` print it
 * (kernel/bpf/disasm.c print_bpf_insn): `(b7) r0 = 42`, `(85) call bpf_map_lookup_elem#1`,
 * `(15) if r1 == 0x0 goto pc+2`. Decimal immediates, helper names from the helper table.
 * 64-bit immediates print as the kernel does when pointers may be shown.
 */
export function formatVerifierInstruction(insn: Instruction): string {
  const code = insn.code.toString(16).padStart(2, "0");
  return `(${code}) ${verifierText(insn)}`;
}

function verifierText(insn: Instruction): string {
  const cls: Class = insn.code & 0x07;
  const op = insn.code & OP_MASK;
  const size: Size = insn.code & SIZE_MASK;
  const mode: Mode = insn.code & MODE_MASK;
  const x = (insn.code & Source.X) !== 0;
  const type = SIZE_TYPES.get(size)!;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const r = cls === Class.ALU ? "w" : "r";
      if (op === AluOp.END)
        return cls === Class.ALU64
          ? `r${insn.dst} = bswap${insn.imm} r${insn.dst}`
          : `r${insn.dst} = ${x ? "be" : "le"}${insn.imm} r${insn.dst}`;
      if (op === AluOp.NEG) return `${r}${insn.dst} = -${r}${insn.dst}`;
      if (insn.code === (Class.ALU64 | AluOp.MOV | Source.X) && insn.off === 1)
        return `r${insn.dst} = addr_space_cast(r${insn.src}, ${insn.imm >>> 16}, ${insn.imm & 0xffff})`;
      if (insn.code === (Class.ALU64 | AluOp.MOV | Source.X) && insn.off === -1)
        return `r${insn.dst} = &(void __percpu *)(r${insn.src})`;
      const operator =
        (insn.off === 1 ? SIGNED_ALU_OPERATORS.get(op) : undefined) ?? ALU_OPERATORS.get(op) ?? "?";
      if (!x) return `${r}${insn.dst} ${operator} ${insn.imm}`;
      const movsx = op === AluOp.MOV && [8, 16, 32].includes(insn.off) ? `(s${insn.off})` : "";
      return `${r}${insn.dst} ${operator} ${movsx}${r}${insn.src}`;
    }
    case Class.STX: {
      const m = mem(insn.dst, insn.off);
      if (mode === Mode.MEM) return `*(${type} *)(${m}) = r${insn.src}`;
      if (mode !== Mode.ATOMIC) return `BUG_${insn.code.toString(16).padStart(2, "0")}`;
      const width = size === Size.DW ? "64" : "";
      const lock = ATOMIC_LOCK_OPERATORS.get(insn.imm);
      if (lock) return `lock *(${type} *)(${m}) ${lock} r${insn.src}`;
      const fetch = ATOMIC_FETCH_NAMES.get(insn.imm);
      if (fetch) return `r${insn.src} = atomic${width}_fetch_${fetch}((${type} *)(${m}), r${insn.src})`;
      if (insn.imm === AtomicOp.CMPXCHG)
        return `r0 = atomic${width}_cmpxchg((${type} *)(${m}), r0, r${insn.src})`;
      if (insn.imm === AtomicOp.XCHG)
        return `r${insn.src} = atomic${width}_xchg((${type} *)(${m}), r${insn.src})`;
      if (insn.imm === AtomicOp.LOAD_ACQ)
        return `r${insn.dst} = load_acquire((${type} *)(${mem(insn.src, insn.off)}))`;
      if (insn.imm === AtomicOp.STORE_REL) return `store_release((${type} *)(${m}), r${insn.src})`;
      return `BUG_${insn.code.toString(16).padStart(2, "0")}`;
    }
    case Class.ST:
      if (mode === Mode.MEM) return `*(${type} *)(${mem(insn.dst, insn.off)}) = ${insn.imm}`;
      return mode === 0xc0 ? "nospec" : `BUG_st_${insn.code.toString(16).padStart(2, "0")}`;
    case Class.LDX: {
      const t = mode === Mode.MEM ? type : mode === Mode.MEMSX ? SIGNED_SIZE_TYPES.get(size) : undefined;
      if (!t) return `BUG_ldx_${insn.code.toString(16).padStart(2, "0")}`;
      return `r${insn.dst} = *(${t} *)(${mem(insn.src, insn.off)})`;
    }
    case Class.LD:
      if (mode === Mode.ABS) return `r0 = *(${type} *)skb[${insn.imm}]`;
      if (mode === Mode.IND) return `r0 = *(${type} *)skb[r${insn.src} + ${insn.imm}]`;
      if (insn.code === LDDW) return `r${insn.dst} = 0x${lddwValue(insn).toString(16)}`;
      return `BUG_ld_${insn.code.toString(16).padStart(2, "0")}`;
    default: {
      const jmp32 = cls === Class.JMP32;
      if (op === JumpOp.CALL) {
        if (insn.src === PseudoCall.CALL) return `call pc${plus(insn.imm)}`;
        if (insn.src === PseudoCall.KFUNC) return `call kernel-function#${insn.imm}`;
        if (x) return `callx r${insn.dst}`;
        return `call ${(insn.src === 0 && helperById(insn.imm)?.name) || "unknown"}#${insn.imm}`;
      }
      if (insn.code === (Class.JMP | JumpOp.JA)) return `goto pc${plus(insn.off)}`;
      if (insn.code === (Class.JMP | JumpOp.JA | Source.X)) return `gotox r${insn.dst}`;
      if (insn.code === (Class.JMP | JumpOp.JCOND) && insn.src === 0) return `may_goto pc${plus(insn.off)}`;
      if (insn.code === (Class.JMP32 | JumpOp.JA)) return `gotol pc${plus(insn.imm)}`;
      if (insn.code === (Class.JMP | JumpOp.EXIT)) return "exit";
      const r = jmp32 ? "w" : "r";
      const cmp = JUMP_OPERATORS.get(op) ?? "?";
      const rhs = x ? `${r}${insn.src}` : `0x${(insn.imm >>> 0).toString(16)}`;
      return `if ${r}${insn.dst} ${cmp} ${rhs} goto pc${plus(insn.off)}`;
    }
  }
}
