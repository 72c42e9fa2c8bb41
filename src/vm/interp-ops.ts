import { TsbpfError } from "../errors.js";
import { AtomicOp } from "../isa/opcodes.js";
import { MemoryAccessError, VmFault, describeRegion, hexAddress, type FaultKind } from "./fault.js";
import type { Memory } from "./memory.js";
import type { LoadedProgram } from "./interp-load.js";

/**
 * The out-of-line parts of the interpreter: rare or bulky operations (64-bit division,
 * multiplication, atomics, packet loads) and fault construction, kept out of the hot loop.
 * Registers are two Int32Arrays: `lo[r]` and `hi[r]` hold the low and high 32 bits of rN.
 */

const TWO32 = 4294967296;

/** The 64-bit value of a register pair, unsigned. */
export const pairToBigInt = (lo: number, hi: number): bigint =>
  hi === 0 ? BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Write a bigint (mod 2^64) into register `r`. */
export function setRegister(lo: Int32Array, hi: Int32Array, r: number, value: bigint): void {
  if (value >= 0n && value <= 0x1fffffffffffffn) {
    // an exact double (small values, the VM's addresses): split without BigInt arithmetic
    const n = Number(value);
    const h = Math.floor(n / 4294967296);
    hi[r] = h;
    lo[r] = n - h * 4294967296;
    return;
  }
  const u = BigInt.asUintN(64, value);
  lo[r] = Number(u & 0xffffffffn) | 0;
  hi[r] = Number(u >> 32n) | 0;
}

/** r0 = a helper's return value (bigint, integer number, or nothing). */
export function setReturnValue(lo: Int32Array, hi: Int32Array, v: bigint | number | void): void {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new TsbpfError(`helper returned ${v}, not an integer below 2^53`);
    lo[0] = v | 0;
    hi[0] = Math.floor(v / TWO32) | 0;
  } else if (typeof v === "bigint") {
    setRegister(lo, hi, 0, v);
  } else {
    lo[0] = 0;
    hi[0] = 0;
  }
}

/** rd = low 64 bits of rd * (bh:bl). */
export function mul64(lo: Int32Array, hi: Int32Array, d: number, bl: number, bh: number): void {
  const al = lo[d]!;
  const ah = hi[d]!;
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const high = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  hi[d] = (high + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  lo[d] = Math.imul(al, bl);
}

/**
 * 64-bit division / modulo with RFC 9669 semantics: x / 0 = 0, x % 0 = x,
 * INT64_MIN / -1 = INT64_MIN, INT64_MIN % -1 = 0.
 */
export function divmod64(
  lo: Int32Array,
  hi: Int32Array,
  d: number,
  bl: number,
  bh: number,
  signed: boolean,
  mod: boolean,
): void {
  const al = lo[d]!;
  const ah = hi[d]!;
  if (bl === 0 && bh === 0) {
    if (!mod) lo[d] = hi[d] = 0;
    return;
  }
  if (!signed && ah === 0 && bh === 0) {
    const a = al >>> 0;
    const b = bl >>> 0;
    const r = mod ? a % b : Math.floor(a / b);
    lo[d] = r | 0;
    hi[d] = 0;
    return;
  }
  if (signed && ah === al >> 31 && bh === bl >> 31) {
    const r = mod ? al % bl : Math.trunc(al / bl); // |r| <= 2^31
    lo[d] = r | 0;
    hi[d] = r < 0 ? -1 : 0;
    return;
  }
  let a = pairToBigInt(al, ah);
  let b = pairToBigInt(bl, bh);
  if (signed) {
    a = BigInt.asIntN(64, a);
    b = BigInt.asIntN(64, b);
  }
  setRegister(lo, hi, d, mod ? a % b : a / b);
}

/** 32-bit division / modulo: x / 0 = 0, x % 0 = x; INT32_MIN / -1 = INT32_MIN. Returns the low word. */
export function divmod32(a: number, b: number, signed: boolean, mod: boolean): number {
  if (b === 0) return mod ? a : 0;
  if (signed) return (mod ? a % b : Math.trunc(a / b)) | 0;
  const ua = a >>> 0;
  const ub = b >>> 0;
  return (mod ? ua % ub : Math.floor(ua / ub)) | 0;
}

/**
 * Build the fault for an access of `size` bytes at (hi:lo) + off that failed its bounds check.
 * The region is the one the base pointer points into, so `[r1-4]` with r1 at a region's start is
 * "out of bounds of" that region rather than an unmapped address.
 */
export function memoryFault(
  memory: Memory,
  prog: LoadedProgram,
  pc: number,
  lo: number,
  hi: number,
  off: number,
  size: number,
  write: boolean,
): VmFault {
  const address = BigInt.asUintN(64, pairToBigInt(lo, hi) + BigInt(off));
  const id = hi >>> 0;
  const region = id < memory._regions.length ? (memory._regions[id] ?? undefined) : undefined;
  let kind: "out-of-bounds" | "unmapped" | "read-only";
  if (!region) kind = "unmapped";
  else {
    const o = (lo >>> 0) + off;
    kind = o >= 0 && o + size <= region.length && write && !region.writable ? "read-only" : "out-of-bounds";
  }
  const detail = MemoryAccessError.explain(kind, write ? "write" : "read", address, size, region);
  return new VmFault(kind, pc, prog.instructionAt[pc], detail, {
    address,
    ...(region ? { region: region.name } : {}),
    ...(prog.name !== undefined ? { program: prog.name } : {}),
  });
}

/** A fault at `pc` of `prog`. */
export function fault(
  prog: LoadedProgram,
  pc: number,
  kind: FaultKind,
  detail: string,
  cause?: unknown,
): VmFault {
  return new VmFault(kind, pc, prog.instructionAt[pc], detail, {
    ...(prog.name !== undefined ? { program: prog.name } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Turn an error thrown by a helper into the fault of its call instruction. */
export function helperFault(prog: LoadedProgram, pc: number, helperId: number, error: unknown): VmFault {
  if (error instanceof VmFault) return error;
  const name = prog.registry.get(helperId)?.name ?? `#${helperId}`;
  if (error instanceof MemoryAccessError) {
    return new VmFault(error.kind, pc, prog.instructionAt[pc], `helper ${name}: ${error.message}`, {
      address: error.address,
      ...(error.region ? { region: error.region.name } : {}),
      ...(prog.name !== undefined ? { program: prog.name } : {}),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return fault(prog, pc, "helper", `helper ${name} failed: ${message}`, error);
}

/**
 * STX|ATOMIC of `size` (4 or 8; 1 and 2 for load-acquire/store-release). Checks bounds itself;
 * returns the fault to throw, or undefined.
 */
export function atomic(
  memory: Memory,
  prog: LoadedProgram,
  pc: number,
  lo: Int32Array,
  hi: Int32Array,
  d: number,
  s: number,
  off: number,
  op: number,
  size: number,
): VmFault | undefined {
  // load-acquire reads [src + off] into dst; everything else addresses [dst + off].
  const acquire = op === AtomicOp.LOAD_ACQ;
  const a = acquire ? s : d;
  const rid = hi[a]!;
  const o = (lo[a]! >>> 0) + off;
  const lens = acquire ? memory._readLengths : memory._writeLengths;
  if (!(rid >>> 0 < lens.length && o >= 0 && o + size <= lens[rid]!))
    return memoryFault(memory, prog, pc, lo[a]!, hi[a]!, off, size, !acquire);
  const v = memory._views[rid]!;
  if (acquire) {
    lo[d] = size === 1 ? v.getUint8(o) : size === 2 ? v.getUint16(o, true) : v.getInt32(o, true);
    hi[d] = size === 8 ? v.getInt32(o + 4, true) : 0;
    return undefined;
  }
  if (op === AtomicOp.STORE_REL) {
    if (size === 1) v.setUint8(o, lo[s]! & 0xff);
    else if (size === 2) v.setUint16(o, lo[s]! & 0xffff, true);
    else v.setInt32(o, lo[s]!, true);
    if (size === 8) v.setInt32(o + 4, hi[s]!, true);
    return undefined;
  }
  const oldLo = v.getInt32(o, true);
  const oldHi = size === 8 ? v.getInt32(o + 4, true) : 0;
  const sl = lo[s]!;
  const sh = size === 8 ? hi[s]! : 0;
  let nl: number;
  let nh: number;
  switch (op & ~AtomicOp.FETCH) {
    case AtomicOp.ADD: {
      nl = (oldLo + sl) | 0;
      nh = (oldHi + sh + (nl >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0;
      break;
    }
    case AtomicOp.OR:
      nl = oldLo | sl;
      nh = oldHi | sh;
      break;
    case AtomicOp.AND:
      nl = oldLo & sl;
      nh = oldHi & sh;
      break;
    case AtomicOp.XOR:
      nl = oldLo ^ sl;
      nh = oldHi ^ sh;
      break;
    case AtomicOp.XCHG & ~AtomicOp.FETCH:
      nl = sl;
      nh = sh;
      break;
    default: {
      // cmpxchg: compare with r0 (its low half for 32 bits), old value into r0.
      const equal = oldLo === lo[0] && (size === 4 || oldHi === hi[0]);
      nl = equal ? sl : oldLo;
      nh = equal ? sh : oldHi;
      lo[0] = oldLo;
      hi[0] = oldHi;
      break;
    }
  }
  v.setInt32(o, nl, true);
  if (size === 8) v.setInt32(o + 4, nh, true);
  if ((op & AtomicOp.FETCH) !== 0 && op !== AtomicOp.CMPXCHG) {
    lo[s] = oldLo;
    hi[s] = oldHi;
  }
  return undefined;
}

/** Names an address for messages. */
export const describeAddress = (memory: Memory, address: bigint): string => {
  const r = memory.regionAt(address);
  return r ? `${hexAddress(address)} in ${describeRegion(r)}` : hexAddress(address);
};
