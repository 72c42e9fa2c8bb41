/**
 * Program builder: write eBPF the way it reads, with labels resolved at build time.
 *
 *   const prog = new ProgramBuilder()
 *     .ldx(Size.W, R0, R1, 0) // r0 = *(u32 *)(r1 + 0)
 *     .add32(R0, 42)          // w0 += 42
 *     .exit()
 *     .build();
 *
 * Method names are the mnemonics of the conformance dialect (`add` is 64-bit, `add32` 32-bit);
 * memory operands follow the kernel's BPF_* macros (size first, then dst, src, off). A second
 * operand that is a Register selects the register form, a number the immediate form. Jump
 * targets are label names (see `label()`) or raw relative offsets in slots.
 */
import { TsbpfError } from "../errors.js";
import type { Instruction } from "./instruction.js";
import { slotsOf, splitImm64 } from "./instruction.js";
import {
  AluOp,
  AtomicOp,
  Class,
  JumpOp,
  LDDW,
  Mode,
  PseudoCall,
  PseudoLd,
  REGISTER_COUNT,
  Size,
  Source,
} from "./opcodes.js";
import { checkInstruction } from "./validity.js";

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Instruction => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** A program that cannot be built: bad operand, unknown or duplicate label, jump out of range. */
export class BuildError extends TsbpfError {
  override name = "BuildError";
}

/** A register operand. Distinct from numbers so that `add(R1, R2)` and `add(R1, 2)` differ. */
export class Register {
  private static readonly all: readonly Register[] = Array.from(
    { length: REGISTER_COUNT },
    (_, i) => new Register(i),
  );
  private constructor(readonly index: number) {}
  /** The register numbered `n` (0..10). */
  static of(n: number): Register {
    const r = Register.all[n];
    if (!r) throw new BuildError(`invalid register r${n} (expected r0..r10)`);
    return r;
  }
  toString(): string {
    return `r${this.index}`;
  }
}

export const R0 = Register.of(0);
export const R1 = Register.of(1);
export const R2 = Register.of(2);
export const R3 = Register.of(3);
export const R4 = Register.of(4);
export const R5 = Register.of(5);
export const R6 = Register.of(6);
export const R7 = Register.of(7);
export const R8 = Register.of(8);
export const R9 = Register.of(9);
/** Frame pointer (read only). */
export const R10 = Register.of(10);

/** Source operand of ALU and jump instructions: a register, or a 32-bit immediate. */
export type Operand = Register | number;
/** Jump or call target: a label name, or a relative offset in 8-byte slots. */
export type JumpTarget = string | number;

type Width = 16 | 32 | 64;

interface Item {
  insn: Instruction;
  /** What the instruction was written as, for messages. */
  readonly what: string;
  readonly target?: { readonly label: string; readonly field: "off" | "imm" };
}

/**
 * Builds a program instruction by instruction; every method returns the builder. Operands are
 * checked when given (the error names the instruction index), labels when `build()` resolves them.
 */
export class ProgramBuilder {
  private readonly items: Item[] = [];
  private readonly labels = new Map<string, number>();

  // ---- checks of operands, at the call that gives them ----

  private where(): string {
    return `instruction ${this.items.length}`;
  }
  private fail(what: string, reason: string): never {
    throw new BuildError(`${this.where()} (${what}): ${reason}`);
  }
  private reg(what: string, r: Register): number {
    if (!(r instanceof Register)) this.fail(what, `expected a register (R0..R10), got ${String(r)}`);
    return r.index;
  }
  private int(what: string, v: number, lo: number, hi: number, name: string): number {
    if (!Number.isInteger(v) || v < lo || v > hi) this.fail(what, `${name} ${v} out of range ${lo}..${hi}`);
    return v;
  }
  /** 32-bit immediate: signed, or an unsigned bit pattern up to 0xffffffff. */
  private imm(what: string, v: number): number {
    return this.int(what, v, -0x80000000, 0xffffffff, "immediate") | 0;
  }
  private off(what: string, v: number): number {
    return this.int(what, v, -0x8000, 0x7fff, "offset");
  }
  private size(what: string, size: Size, allowed: readonly Size[]): Size {
    if (!allowed.includes(size)) this.fail(what, `size ${Size[size] ?? size} not allowed`);
    return size;
  }

  private push(what: string, insn: Instruction, target?: { value: JumpTarget; field: "off" | "imm" }): this {
    if (target === undefined || typeof target.value === "number") {
      const resolved = target
        ? { ...insn, [target.field]: this.relative(what, target.value as number, target.field) }
        : insn;
      this.items.push({ insn: resolved, what });
    } else {
      this.items.push({ insn, what, target: { label: target.value, field: target.field } });
    }
    return this;
  }
  private relative(what: string, v: number, field: "off" | "imm"): number {
    return field === "off" ? this.off(what, v) : this.int(what, v, -0x80000000, 0x7fffffff, "offset");
  }

  // ---- labels and raw instructions ----

  /** Name the next instruction (or the end of the program). Throws on a duplicate. */
  label(name: string): this {
    if (typeof name !== "string" || name === "")
      throw new BuildError(`invalid label ${JSON.stringify(name)}`);
    const prev = this.labels.get(name);
    if (prev !== undefined)
      throw new BuildError(`duplicate label '${name}' (already at instruction ${prev})`);
    this.labels.set(name, this.items.length);
    return this;
  }

  /** Append instructions as they are (checked at build). */
  raw(...insns: Instruction[]): this {
    for (const insn of insns) this.items.push({ insn, what: "raw" });
    return this;
  }

  // ---- ALU ----

  private alu(what: string, cls: Class, op: AluOp, dst: Register, src: Operand, off = 0): this {
    const d = this.reg(what, dst);
    if (src instanceof Register) return this.push(what, insn(cls | Source.X | op, d, src.index, off));
    if (typeof src !== "number") this.fail(what, `expected a register or a number, got ${String(src)}`);
    return this.push(what, insn(cls | Source.K | op, d, 0, off, this.imm(what, src)));
  }

  private aluOp(what: string, cls: Class, op: AluOp, off = 0): (dst: Register, src: Operand) => this {
    return (dst, src) => this.alu(what, cls, op, dst, src, off);
  }

  /** dst += src */
  readonly add = this.aluOp("add", Class.ALU64, AluOp.ADD);
  /** dst -= src */
  readonly sub = this.aluOp("sub", Class.ALU64, AluOp.SUB);
  /** dst *= src */
  readonly mul = this.aluOp("mul", Class.ALU64, AluOp.MUL);
  /** dst /= src, unsigned */
  readonly div = this.aluOp("div", Class.ALU64, AluOp.DIV);
  /** dst /= src, signed */
  readonly sdiv = this.aluOp("sdiv", Class.ALU64, AluOp.DIV, 1);
  /** dst |= src */
  readonly or = this.aluOp("or", Class.ALU64, AluOp.OR);
  /** dst &= src */
  readonly and = this.aluOp("and", Class.ALU64, AluOp.AND);
  /** dst <<= src */
  readonly lsh = this.aluOp("lsh", Class.ALU64, AluOp.LSH);
  /** dst >>= src, logical */
  readonly rsh = this.aluOp("rsh", Class.ALU64, AluOp.RSH);
  /** dst %= src, unsigned */
  readonly mod = this.aluOp("mod", Class.ALU64, AluOp.MOD);
  /** dst %= src, signed */
  readonly smod = this.aluOp("smod", Class.ALU64, AluOp.MOD, 1);
  /** dst ^= src */
  readonly xor = this.aluOp("xor", Class.ALU64, AluOp.XOR);
  /** dst = src */
  readonly mov = this.aluOp("mov", Class.ALU64, AluOp.MOV);
  /** dst >>= src, arithmetic */
  readonly arsh = this.aluOp("arsh", Class.ALU64, AluOp.ARSH);
  /** dst = -dst */
  neg(dst: Register): this {
    return this.push("neg", insn(Class.ALU64 | AluOp.NEG, this.reg("neg", dst)));
  }

  /** w(dst) += src */
  readonly add32 = this.aluOp("add32", Class.ALU, AluOp.ADD);
  /** w(dst) -= src */
  readonly sub32 = this.aluOp("sub32", Class.ALU, AluOp.SUB);
  /** w(dst) *= src */
  readonly mul32 = this.aluOp("mul32", Class.ALU, AluOp.MUL);
  /** w(dst) /= src, unsigned */
  readonly div32 = this.aluOp("div32", Class.ALU, AluOp.DIV);
  /** w(dst) /= src, signed */
  readonly sdiv32 = this.aluOp("sdiv32", Class.ALU, AluOp.DIV, 1);
  /** w(dst) |= src */
  readonly or32 = this.aluOp("or32", Class.ALU, AluOp.OR);
  /** w(dst) &= src */
  readonly and32 = this.aluOp("and32", Class.ALU, AluOp.AND);
  /** w(dst) <<= src */
  readonly lsh32 = this.aluOp("lsh32", Class.ALU, AluOp.LSH);
  /** w(dst) >>= src, logical */
  readonly rsh32 = this.aluOp("rsh32", Class.ALU, AluOp.RSH);
  /** w(dst) %= src, unsigned */
  readonly mod32 = this.aluOp("mod32", Class.ALU, AluOp.MOD);
  /** w(dst) %= src, signed */
  readonly smod32 = this.aluOp("smod32", Class.ALU, AluOp.MOD, 1);
  /** w(dst) ^= src */
  readonly xor32 = this.aluOp("xor32", Class.ALU, AluOp.XOR);
  /** w(dst) = src (upper half zeroed) */
  readonly mov32 = this.aluOp("mov32", Class.ALU, AluOp.MOV);
  /** w(dst) >>= src, arithmetic */
  readonly arsh32 = this.aluOp("arsh32", Class.ALU, AluOp.ARSH);
  /** w(dst) = -w(dst) */
  neg32(dst: Register): this {
    return this.push("neg32", insn(Class.ALU | AluOp.NEG, this.reg("neg32", dst)));
  }

  /** dst = (s64) (s`bits`) src — sign-extending move, bits 8, 16 or 32. */
  movsx(dst: Register, src: Register, bits: 8 | 16 | 32): this {
    if (!(src instanceof Register)) this.fail("movsx", "movsx needs a register source");
    return this.alu(
      "movsx",
      Class.ALU64,
      AluOp.MOV,
      dst,
      src,
      this.oneOf("movsx", bits, [8, 16, 32], "width"),
    );
  }
  /** w(dst) = (s32) (s`bits`) src — sign-extending 32-bit move, bits 8 or 16. */
  movsx32(dst: Register, src: Register, bits: 8 | 16): this {
    if (!(src instanceof Register)) this.fail("movsx32", "movsx32 needs a register source");
    return this.alu("movsx32", Class.ALU, AluOp.MOV, dst, src, this.oneOf("movsx32", bits, [8, 16], "width"));
  }

  private oneOf(what: string, v: number, allowed: readonly number[], name: string): number {
    if (!allowed.includes(v)) this.fail(what, `${name} ${v} not one of ${allowed.join(", ")}`);
    return v;
  }
  private endian(what: string, code: number, dst: Register, width: Width): this {
    return this.push(
      what,
      insn(code, this.reg(what, dst), 0, 0, this.oneOf(what, width, [16, 32, 64], "width")),
    );
  }
  /** Convert the low `width` bits of dst to little endian (zero-extending). */
  le(dst: Register, width: Width): this {
    return this.endian("le", Class.ALU | Source.K | AluOp.END, dst, width);
  }
  /** Convert the low `width` bits of dst to big endian (zero-extending). */
  be(dst: Register, width: Width): this {
    return this.endian("be", Class.ALU | Source.X | AluOp.END, dst, width);
  }
  /** Unconditionally byte-swap the low `width` bits of dst. */
  bswap(dst: Register, width: Width): this {
    return this.endian("bswap", Class.ALU64 | Source.K | AluOp.END, dst, width);
  }

  // ---- jumps and calls ----

  private jump(what: string, cls: Class, op: JumpOp, dst: Register, src: Operand, to: JumpTarget): this {
    const d = this.reg(what, dst);
    const base =
      src instanceof Register
        ? insn(cls | Source.X | op, d, src.index)
        : typeof src === "number"
          ? insn(cls | Source.K | op, d, 0, 0, this.imm(what, src))
          : this.fail(what, `expected a register or a number, got ${String(src)}`);
    return this.push(what, base, { value: this.target(what, to), field: "off" });
  }
  private target(what: string, to: JumpTarget): JumpTarget {
    if (typeof to !== "string" && !Number.isInteger(to)) this.fail(what, `invalid jump target ${String(to)}`);
    return to;
  }

  private jumpOp(
    what: string,
    cls: Class,
    op: JumpOp,
  ): (dst: Register, src: Operand, to: JumpTarget) => this {
    return (dst, src, to) => this.jump(what, cls, op, dst, src, to);
  }

  /** if dst == src goto to */
  readonly jeq = this.jumpOp("jeq", Class.JMP, JumpOp.JEQ);
  /** if dst > src (unsigned) */
  readonly jgt = this.jumpOp("jgt", Class.JMP, JumpOp.JGT);
  /** if dst >= src (unsigned) */
  readonly jge = this.jumpOp("jge", Class.JMP, JumpOp.JGE);
  /** if dst & src */
  readonly jset = this.jumpOp("jset", Class.JMP, JumpOp.JSET);
  /** if dst != src */
  readonly jne = this.jumpOp("jne", Class.JMP, JumpOp.JNE);
  /** if dst > src (signed) */
  readonly jsgt = this.jumpOp("jsgt", Class.JMP, JumpOp.JSGT);
  /** if dst >= src (signed) */
  readonly jsge = this.jumpOp("jsge", Class.JMP, JumpOp.JSGE);
  /** if dst < src (unsigned) */
  readonly jlt = this.jumpOp("jlt", Class.JMP, JumpOp.JLT);
  /** if dst <= src (unsigned) */
  readonly jle = this.jumpOp("jle", Class.JMP, JumpOp.JLE);
  /** if dst < src (signed) */
  readonly jslt = this.jumpOp("jslt", Class.JMP, JumpOp.JSLT);
  /** if dst <= src (signed) */
  readonly jsle = this.jumpOp("jsle", Class.JMP, JumpOp.JSLE);

  /** if w(dst) == src */
  readonly jeq32 = this.jumpOp("jeq32", Class.JMP32, JumpOp.JEQ);
  /** if w(dst) > src (unsigned) */
  readonly jgt32 = this.jumpOp("jgt32", Class.JMP32, JumpOp.JGT);
  /** if w(dst) >= src (unsigned) */
  readonly jge32 = this.jumpOp("jge32", Class.JMP32, JumpOp.JGE);
  /** if w(dst) & src */
  readonly jset32 = this.jumpOp("jset32", Class.JMP32, JumpOp.JSET);
  /** if w(dst) != src */
  readonly jne32 = this.jumpOp("jne32", Class.JMP32, JumpOp.JNE);
  /** if w(dst) > src (signed) */
  readonly jsgt32 = this.jumpOp("jsgt32", Class.JMP32, JumpOp.JSGT);
  /** if w(dst) >= src (signed) */
  readonly jsge32 = this.jumpOp("jsge32", Class.JMP32, JumpOp.JSGE);
  /** if w(dst) < src (unsigned) */
  readonly jlt32 = this.jumpOp("jlt32", Class.JMP32, JumpOp.JLT);
  /** if w(dst) <= src (unsigned) */
  readonly jle32 = this.jumpOp("jle32", Class.JMP32, JumpOp.JLE);
  /** if w(dst) < src (signed) */
  readonly jslt32 = this.jumpOp("jslt32", Class.JMP32, JumpOp.JSLT);
  /** if w(dst) <= src (signed) */
  readonly jsle32 = this.jumpOp("jsle32", Class.JMP32, JumpOp.JSLE);

  /** goto to (16-bit offset) */
  ja(to: JumpTarget): this {
    return this.push("ja", insn(Class.JMP | JumpOp.JA), { value: this.target("ja", to), field: "off" });
  }
  /** goto to, with a 32-bit offset (gotol / ja32, kernel 6.6+) */
  gotol(to: JumpTarget): this {
    return this.push("gotol", insn(Class.JMP32 | JumpOp.JA), {
      value: this.target("gotol", to),
      field: "imm",
    });
  }
  /** may_goto to: bounded-loop escape (kernel 6.9+) */
  mayGoto(to: JumpTarget): this {
    return this.push("may_goto", insn(Class.JMP | JumpOp.JCOND), {
      value: this.target("may_goto", to),
      field: "off",
    });
  }
  /** return r0 */
  exit(): this {
    return this.push("exit", insn(Class.JMP | JumpOp.EXIT));
  }
  /** Call helper function number `id` (see the helper table). */
  call(id: number): this {
    return this.push("call", insn(Class.JMP | JumpOp.CALL, 0, PseudoCall.HELPER, 0, this.imm("call", id)));
  }
  /** BPF-to-BPF call of the function at `to` (imm = relative offset, resolved at build). */
  callLocal(to: JumpTarget): this {
    return this.push("call local", insn(Class.JMP | JumpOp.CALL, 0, PseudoCall.CALL), {
      value: this.target("call local", to),
      field: "imm",
    });
  }
  /** Call the kernel function with BTF id `btfId`; `fdIndex` selects a module BTF in fd_array. */
  callKfunc(btfId: number, fdIndex = 0): this {
    return this.push(
      "call kfunc",
      insn(
        Class.JMP | JumpOp.CALL,
        0,
        PseudoCall.KFUNC,
        this.off("call kfunc", fdIndex),
        this.imm("call kfunc", btfId),
      ),
    );
  }
  /** Indirect call through a register (callx). */
  callx(target: Register): this {
    return this.push("callx", insn(Class.JMP | Source.X | JumpOp.CALL, this.reg("callx", target)));
  }

  // ---- memory ----

  /** dst = *(size *)(src + off) */
  ldx(size: Size, dst: Register, src: Register, off: number): this {
    const s = this.size("ldx", size, [Size.B, Size.H, Size.W, Size.DW]);
    return this.push(
      "ldx",
      insn(Class.LDX | Mode.MEM | s, this.reg("ldx", dst), this.reg("ldx", src), this.off("ldx", off)),
    );
  }
  /** dst = *(signed size *)(src + off), sign-extended (B, H, W) */
  ldxs(size: Size, dst: Register, src: Register, off: number): this {
    const s = this.size("ldxs", size, [Size.B, Size.H, Size.W]);
    return this.push(
      "ldxs",
      insn(Class.LDX | Mode.MEMSX | s, this.reg("ldxs", dst), this.reg("ldxs", src), this.off("ldxs", off)),
    );
  }
  /** *(size *)(dst + off) = imm */
  st(size: Size, dst: Register, off: number, imm: number): this {
    const s = this.size("st", size, [Size.B, Size.H, Size.W, Size.DW]);
    return this.push(
      "st",
      insn(Class.ST | Mode.MEM | s, this.reg("st", dst), 0, this.off("st", off), this.imm("st", imm)),
    );
  }
  /** *(size *)(dst + off) = src */
  stx(size: Size, dst: Register, src: Register, off: number): this {
    const s = this.size("stx", size, [Size.B, Size.H, Size.W, Size.DW]);
    return this.push(
      "stx",
      insn(Class.STX | Mode.MEM | s, this.reg("stx", dst), this.reg("stx", src), this.off("stx", off)),
    );
  }

  /** Any atomic operation (AtomicOp, FETCH included): like the kernel's BPF_ATOMIC_OP(size, op, dst, src, off). */
  atomic(size: Size, op: AtomicOp | number, dst: Register, src: Register, off: number): this {
    const what = `atomic 0x${op.toString(16)}`;
    const ordered = op === AtomicOp.LOAD_ACQ || op === AtomicOp.STORE_REL;
    const s = this.size(what, size, ordered ? [Size.B, Size.H, Size.W, Size.DW] : [Size.W, Size.DW]);
    return this.push(
      what,
      insn(Class.STX | Mode.ATOMIC | s, this.reg(what, dst), this.reg(what, src), this.off(what, off), op),
    );
  }
  /** lock *(size *)(dst + off) += src */
  atomicAdd(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.ADD, dst, src, off);
  }
  /** lock *(size *)(dst + off) |= src */
  atomicOr(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.OR, dst, src, off);
  }
  /** lock *(size *)(dst + off) &= src */
  atomicAnd(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.AND, dst, src, off);
  }
  /** lock *(size *)(dst + off) ^= src */
  atomicXor(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.XOR, dst, src, off);
  }
  /** src = atomic_fetch_add((size *)(dst + off), src) */
  atomicFetchAdd(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.ADD | AtomicOp.FETCH, dst, src, off);
  }
  /** src = atomic_fetch_or((size *)(dst + off), src) */
  atomicFetchOr(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.OR | AtomicOp.FETCH, dst, src, off);
  }
  /** src = atomic_fetch_and((size *)(dst + off), src) */
  atomicFetchAnd(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.AND | AtomicOp.FETCH, dst, src, off);
  }
  /** src = atomic_fetch_xor((size *)(dst + off), src) */
  atomicFetchXor(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.XOR | AtomicOp.FETCH, dst, src, off);
  }
  /** src = xchg((size *)(dst + off), src) */
  atomicXchg(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.XCHG, dst, src, off);
  }
  /** r0 = cmpxchg((size *)(dst + off), r0, src) */
  atomicCmpxchg(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.CMPXCHG, dst, src, off);
  }
  /** dst = load_acquire((size *)(src + off)) (kernel 6.15+) */
  loadAcquire(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.LOAD_ACQ, dst, src, off);
  }
  /** store_release((size *)(dst + off), src) (kernel 6.15+) */
  storeRelease(size: Size, dst: Register, src: Register, off: number): this {
    return this.atomic(size, AtomicOp.STORE_REL, dst, src, off);
  }

  // ---- 64-bit loads (lddw) and legacy packet loads ----

  private ld64(what: string, dst: Register, src: PseudoLd, imm: number, imm2: number): this {
    return this.push(what, { ...insn(LDDW, this.reg(what, dst), src, 0, imm), imm2 });
  }
  /** dst = a 64-bit constant (bigint, or a safe integer number; taken modulo 2^64) */
  lddw(dst: Register, value: bigint | number): this {
    if (typeof value === "number" && !Number.isSafeInteger(value))
      this.fail("lddw", `${value} is not a safe integer; pass a bigint`);
    const big = BigInt(value);
    if (big < -(2n ** 63n) || big >= 2n ** 64n) this.fail("lddw", `${value} out of 64-bit range`);
    const { imm, imm2 } = splitImm64(big);
    return this.ld64("lddw", dst, PseudoLd.IMM64, imm, imm2);
  }
  /** dst = address of the map with file descriptor `fd` (BPF_LD_MAP_FD) */
  ldMapFd(dst: Register, fd: number): this {
    return this.ld64("ld map_fd", dst, PseudoLd.MAP_FD, this.imm("ld map_fd", fd), 0);
  }
  /** dst = address of byte `off` of the value of the array map `fd` (BPF_LD_MAP_VALUE) */
  ldMapValue(dst: Register, fd: number, off: number): this {
    return this.ld64(
      "ld map_value",
      dst,
      PseudoLd.MAP_VALUE,
      this.imm("ld map_value", fd),
      this.imm("ld map_value", off),
    );
  }
  /** dst = address of the map at index `idx` of fd_array */
  ldMapIdx(dst: Register, idx: number): this {
    return this.ld64("ld map_idx", dst, PseudoLd.MAP_IDX, this.imm("ld map_idx", idx), 0);
  }
  /** dst = address of byte `off` of the value of the map at index `idx` of fd_array */
  ldMapIdxValue(dst: Register, idx: number, off: number): this {
    return this.ld64(
      "ld map_idx_value",
      dst,
      PseudoLd.MAP_IDX_VALUE,
      this.imm("ld map_idx_value", idx),
      this.imm("ld map_idx_value", off),
    );
  }
  /** dst = address of the kernel variable with BTF id `id` */
  ldBtfId(dst: Register, id: number): this {
    return this.ld64("ld btf_id", dst, PseudoLd.BTF_ID, this.imm("ld btf_id", id), 0);
  }
  /** dst = address of the BPF function at `to` (callbacks for bpf_loop and friends) */
  ldFunc(dst: Register, to: JumpTarget): this {
    const what = "ld func";
    return this.push(
      what,
      { ...insn(LDDW, this.reg(what, dst), PseudoLd.FUNC), imm2: 0 },
      { value: this.target(what, to), field: "imm" },
    );
  }
  /** r0 = ntoh(*(size *)(skb->data + imm)) — legacy packet load (B, H, W) */
  ldAbs(size: Size, imm: number): this {
    const s = this.size("ld_abs", size, [Size.B, Size.H, Size.W]);
    return this.push("ld_abs", insn(Class.LD | Mode.ABS | s, 0, 0, 0, this.imm("ld_abs", imm)));
  }
  /** r0 = ntoh(*(size *)(skb->data + src + imm)) — legacy packet load (B, H, W) */
  ldInd(size: Size, src: Register, imm: number): this {
    const s = this.size("ld_ind", size, [Size.B, Size.H, Size.W]);
    return this.push(
      "ld_ind",
      insn(Class.LD | Mode.IND | s, 0, this.reg("ld_ind", src), 0, this.imm("ld_ind", imm)),
    );
  }

  // ---- result ----

  /** Resolve labels and return the instructions. Throws BuildError naming the instruction. */
  build(): Instruction[] {
    const slots: number[] = [];
    let slot = 0;
    for (const item of this.items) {
      slots.push(slot);
      slot += slotsOf(item.insn);
    }
    slots.push(slot);
    return this.items.map((item, i) => {
      let insn = item.insn;
      if (item.target) {
        const { label, field } = item.target;
        const index = this.labels.get(label);
        if (index === undefined)
          throw new BuildError(`instruction ${i} (${item.what}): unknown label '${label}'`);
        const rel = slots[index]! - slots[i]! - 1;
        if (field === "off" && (rel < -0x8000 || rel > 0x7fff))
          throw new BuildError(
            `instruction ${i} (${item.what}): label '${label}' is ${rel} slots away, out of the 16-bit jump range (use gotol)`,
          );
        insn = { ...insn, [field]: rel };
      }
      const problem = checkInstruction(insn);
      if (problem) throw new BuildError(`instruction ${i} (${item.what}): ${problem}`);
      return insn;
    });
  }
}
