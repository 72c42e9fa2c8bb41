/**
 * Opcode fields of the eBPF instruction set (RFC 9669 and the kernel's later additions).
 *
 * An instruction's first byte (the opcode) is split into fields whose meaning depends on the class:
 *
 *   ALU / ALU64 / JMP / JMP32:   [ op:4 | source:1 | class:3 ]
 *   LD / LDX / ST / STX:         [ mode:3 | size:2 | class:3 ]
 */

/** Instruction class: bits 0-2 of the opcode. */
export enum Class {
  LD = 0x00,
  LDX = 0x01,
  ST = 0x02,
  STX = 0x03,
  ALU = 0x04,
  JMP = 0x05,
  JMP32 = 0x06,
  ALU64 = 0x07,
}

/** Operand source for ALU and jump classes: bit 3. K = 32-bit immediate, X = source register. */
export enum Source {
  K = 0x00,
  X = 0x08,
}

/** Arithmetic operation: bits 4-7 of an ALU/ALU64 opcode. */
export enum AluOp {
  ADD = 0x00,
  SUB = 0x10,
  MUL = 0x20,
  /** unsigned division; signed (sdiv) when offset = 1 */
  DIV = 0x30,
  OR = 0x40,
  AND = 0x50,
  LSH = 0x60,
  RSH = 0x70,
  NEG = 0x80,
  /** unsigned modulo; signed (smod) when offset = 1 */
  MOD = 0x90,
  XOR = 0xa0,
  /** move; sign-extending move (movsx) when offset = 8, 16 or 32 */
  MOV = 0xb0,
  ARSH = 0xc0,
  /** byte swap: ALU class with source K = to little endian (le), X = to big endian (be); ALU64 = bswap */
  END = 0xd0,
}

/** Jump operation: bits 4-7 of a JMP/JMP32 opcode. */
export enum JumpOp {
  /** JMP: goto +off; JMP32: gotol +imm */
  JA = 0x00,
  JEQ = 0x10,
  JGT = 0x20,
  JGE = 0x30,
  JSET = 0x40,
  JNE = 0x50,
  JSGT = 0x60,
  JSGE = 0x70,
  /** call: source K with src = 0 helper, 1 BPF-to-BPF, 2 kfunc; source X = callx */
  CALL = 0x80,
  EXIT = 0x90,
  JLT = 0xa0,
  JLE = 0xb0,
  JSLT = 0xc0,
  JSLE = 0xd0,
  /** may_goto (kernel 6.9+): JMP|JCOND|K with src = 0 */
  JCOND = 0xe0,
}

/** Access size: bits 3-4 of a load/store opcode. */
export enum Size {
  W = 0x00,
  H = 0x08,
  B = 0x10,
  DW = 0x18,
}

/** Addressing mode: bits 5-7 of a load/store opcode. */
export enum Mode {
  IMM = 0x00,
  ABS = 0x20,
  IND = 0x40,
  MEM = 0x60,
  /** sign-extending load (ldxsb/ldxsh/ldxsw) */
  MEMSX = 0x80,
  ATOMIC = 0xc0,
}

/** Atomic operation, held in the imm field of STX|ATOMIC instructions. */
export enum AtomicOp {
  ADD = 0x00,
  OR = 0x40,
  AND = 0x50,
  XOR = 0xa0,
  /** modifier: return the old value in src */
  FETCH = 0x01,
  /** XCHG | FETCH */
  XCHG = 0xe1,
  /** CMPXCHG | FETCH: compare with r0, old value into r0 */
  CMPXCHG = 0xf1,
  /** load-acquire: dst = *(src + off) */
  LOAD_ACQ = 0x100,
  /** store-release: *(dst + off) = src */
  STORE_REL = 0x110,
}

/** Source register values of the 16-byte lddw (LD|IMM|DW) instruction. */
export enum PseudoLd {
  /** plain 64-bit immediate */
  IMM64 = 0,
  /** imm = map fd; dst = address of the map */
  MAP_FD = 1,
  /** imm = map fd, next imm = offset into the map value */
  MAP_VALUE = 2,
  /** imm = BTF id of a kernel variable */
  BTF_ID = 3,
  /** imm = instruction offset of a function; dst = its address */
  FUNC = 4,
  /** imm = index into the fd_array */
  MAP_IDX = 5,
  /** imm = index into the fd_array, next imm = offset into the map value */
  MAP_IDX_VALUE = 6,
}

/** Source register values of JMP|CALL|K. */
export enum PseudoCall {
  HELPER = 0,
  /** BPF-to-BPF call: imm = relative instruction offset of the callee */
  CALL = 1,
  /** imm = BTF id of a kernel function */
  KFUNC = 2,
}

export const CLASS_MASK = 0x07;
export const SOURCE_MASK = 0x08;
export const OP_MASK = 0xf0;
export const SIZE_MASK = 0x18;
export const MODE_MASK = 0xe0;

/** Opcode of the 16-byte load of a 64-bit immediate (lddw). */
export const LDDW = Class.LD | Mode.IMM | Size.DW; // 0x18

/** Register number of the frame pointer r10 (read only). */
export const FRAME_POINTER = 10;
/** Number of registers. */
export const REGISTER_COUNT = 11;
/** Bytes of stack per frame. */
export const STACK_SIZE = 512;
/** Deepest BPF-to-BPF call chain. */
export const MAX_CALL_FRAMES = 8;

export const classOf = (code: number): Class => code & CLASS_MASK;
export const isAluClass = (c: Class): boolean => c === Class.ALU || c === Class.ALU64;
export const isJumpClass = (c: Class): boolean => c === Class.JMP || c === Class.JMP32;
export const isLoadStoreClass = (c: Class): boolean => c <= Class.STX;

/** Bytes moved by each access size. */
export const SIZE_BYTES: Readonly<Record<Size, number>> = {
  [Size.W]: 4,
  [Size.H]: 2,
  [Size.B]: 1,
  [Size.DW]: 8,
};
