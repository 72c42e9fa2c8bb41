import { TsbpfError } from "../errors.js";
import type { Instruction } from "../isa/instruction.js";
import { MAX_CALL_FRAMES, STACK_SIZE } from "../isa/opcodes.js";
import type { HelperArg, HelperCall } from "./helper-registry.js";
import { HelperRegistry } from "./helper-registry.js";
import {
  FUNCTION_POINTER_TAG,
  loadProgram,
  type KfuncResolver,
  type LoadedProgram,
  type PseudoResolver,
} from "./interp-load.js";
import {
  atomic,
  divmod32,
  divmod64,
  fault,
  helperFault,
  memoryFault,
  mul64,
  pairToBigInt,
  setRegister,
  setReturnValue,
} from "./interp-ops.js";
import { Memory, type Region } from "./memory.js";
import type { RegisterChange, TraceFunction } from "./trace.js";

/** Instructions a run may execute unless told otherwise. */
export const DEFAULT_BUDGET = 1_000_000;
/** may_goto falls through this many times per call frame, then jumps (the kernel's BPF_MAX_LOOPS). */
export const DEFAULT_MAY_GOTO_BUDGET = 8 * 1024 * 1024;
/** Most tail calls in one run, as in the kernel (MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALLS = 33;

export interface InterpreterOptions {
  /** Helper implementations; every `call imm` of the program must name one (checked at load). */
  readonly helpers?: HelperRegistry;
  /** Default instruction budget of runs (default 1,000,000). */
  readonly budget?: number;
  /** Name used in fault messages. */
  readonly name?: string;
  /** Resolves lddw pseudo sources other than imm64 and func; unresolved ones fault when executed. */
  readonly resolvePseudo?: PseudoResolver;
  /** may_goto budget per frame (default 8M, the kernel's BPF_MAX_LOOPS). */
  readonly mayGotoBudget?: number;
  /** Resolves kfunc calls (src 2); without it (or when it returns undefined) they are refused at load. */
  readonly resolveKfunc?: KfuncResolver;
  /**
   * Instructions (by index) that fault when they run, with this error as the fault's message and
   * cause, and are not checked at load: CO-RE relocations the loader could not apply (libbpf
   * poisons them so that they fail only if reached).
   */
  readonly poisoned?: (index: number) => Error | undefined;
}

/** Initial values of r0-r9 (unsigned or signed, taken modulo 2^64); unset registers are 0. */
export type RegisterValues = { readonly [K in `r${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`]?: bigint };

export interface RunOptions {
  /** Initial registers (r1 is usually the context pointer). */
  readonly registers?: RegisterValues;
  /** The address space; a fresh one when absent. Stack frames are regions of it. */
  readonly memory?: Memory;
  /** The packet LD_ABS / LD_IND read (big endian). */
  readonly packet?: Region;
  /** Called after each instruction with the registers it changed (slow path). */
  readonly trace?: TraceFunction;
  /** Instruction budget of this run (overrides the interpreter's). */
  readonly budget?: number;
  /** Passed to helpers as `call.env`. */
  readonly env?: unknown;
}

export interface RunResult {
  /** r0 at exit, unsigned. */
  readonly r0: bigint;
  /** Instructions executed (callbacks and tail-called programs included). */
  readonly instructions: number;
}

const FRAME_WORDS = 9; // return pc, r6-r9 lo/hi
const FUNCTION_POINTER_TAG_BIG = BigInt(FUNCTION_POINTER_TAG);

/** RunOptions.registers names: "r0".."r9" -> index. */
const REGISTER_INDEX: ReadonlyMap<string, number> = new Map(
  Array.from({ length: 10 }, (_, i) => [`r${i}`, i]),
);

/**
 * The state of one run (and the HelperCall object its helpers receive). Reused across runs of an
 * interpreter; a nested run (a helper running a program) gets its own.
 */
class RunState implements HelperCall {
  readonly lo = new Int32Array(16);
  readonly hi = new Int32Array(16);
  pc = 0;
  count = 0;
  /** execute() stops (pauses) when count reaches limit. */
  limit = 0;
  budget = 0;
  depth = 0;
  /** EXIT at this depth ends execute(): 0 for runs, deeper for callbacks. */
  baseDepth = 0;
  readonly frames = new Int32Array(MAX_CALL_FRAMES * FRAME_WORDS);
  readonly frameProgs: LoadedProgram[] = [];
  readonly mayGoto = new Int32Array(MAX_CALL_FRAMES);
  mayGotoBudget = DEFAULT_MAY_GOTO_BUDGET;
  readonly stackIds = new Int32Array(MAX_CALL_FRAMES);
  /** Which set of stack frames of the memory this run uses (see Memory.stackFrame). */
  stackSet = 0;
  prog: LoadedProgram;
  memory: Memory;
  packet: Region | undefined = undefined;
  env: unknown = undefined;
  root: RunState = this;
  exitRequested = false;
  exitValue = 0n;
  pendingTail: LoadedProgram | null = null;
  tailCalls = 0;
  child: RunState | null = null;
  busy = false;
  // HelperCall
  id = 0;
  /** The last callFunction target (checked) and its slot. */
  private lastFunction = -1n;
  private lastFunctionProg: LoadedProgram | undefined = undefined;
  private lastFunctionSlot = 0;

  constructor(prog: LoadedProgram, memory: Memory) {
    this.prog = prog;
    this.memory = memory;
  }

  /** Enter call frame `depth`: fresh zeroed stack, r10 at its end. */
  enterFrame(depth: number): void {
    const region = this.memory.stackFrame(depth, this.stackSet);
    this.stackIds[depth] = region.id;
    region.bytes.fill(0);
    this.lo[10] = STACK_SIZE;
    this.hi[10] = region.id;
    this.mayGoto[depth] = this.mayGotoBudget;
  }

  arg(n: HelperArg): bigint {
    return pairToBigInt(this.lo[n]!, this.hi[n]!);
  }
  argSigned(n: HelperArg): bigint {
    return BigInt.asIntN(64, this.arg(n));
  }
  argU32(n: HelperArg): number {
    return this.lo[n]! >>> 0;
  }
  argHigh32(n: HelperArg): number {
    return this.hi[n]! >>> 0;
  }
  argNumber(n: HelperArg): number {
    return (this.hi[n]! >>> 0) * 4294967296 + (this.lo[n]! >>> 0);
  }
  exit(r0: bigint | number): void {
    this.root.exitRequested = true;
    this.root.exitValue = BigInt.asUintN(64, BigInt(r0));
  }
  tailCall(target: Interpreter): boolean {
    if (this.root.tailCalls >= MAX_TAIL_CALLS) return false;
    this.root.tailCalls++;
    this.pendingTail = target.loaded;
    return true;
  }
  callFunction(fn: bigint, ...args: bigint[]): bigint {
    let slot: number;
    if (fn === this.lastFunction && this.prog === this.lastFunctionProg) slot = this.lastFunctionSlot;
    else {
      // checked once per callback value: bpf_loop calls the same one up to 8M times
      const f = BigInt.asUintN(64, fn);
      slot = Number(f & 0xffffffffn);
      if (f >> 32n !== FUNCTION_POINTER_TAG_BIG || slot >= this.prog.slots)
        throw new TsbpfError(`callFunction: 0x${f.toString(16)} is not a function of the program`);
      this.lastFunction = fn;
      this.lastFunctionProg = this.prog;
      this.lastFunctionSlot = slot;
    }
    if (this.depth + 1 >= MAX_CALL_FRAMES)
      throw new TsbpfError(`callFunction: call depth would exceed ${MAX_CALL_FRAMES} frames`);
    let c = this.child;
    if (c === null || c.busy) {
      c = new RunState(this.prog, this.memory);
      if (this.child === null) this.child = c;
    }
    c.busy = true;
    try {
      c.prog = this.prog;
      c.memory = this.memory;
      c.packet = this.packet;
      c.env = this.env;
      c.root = this.root;
      c.stackSet = this.stackSet;
      c.mayGotoBudget = this.mayGotoBudget;
      c.lo.fill(0);
      c.hi.fill(0);
      for (let i = 0; i < 5 && i < args.length; i++) setRegister(c.lo, c.hi, i + 1, args[i]!);
      c.depth = c.baseDepth = this.depth + 1;
      c.enterFrame(c.depth);
      c.pc = slot;
      c.count = this.count;
      c.budget = c.limit = this.budget;
      c.pendingTail = null;
      execute(c);
      this.count = c.count;
      return pairToBigInt(c.lo[0]!, c.hi[0]!);
    } finally {
      c.busy = false;
    }
  }
}

/**
 * The eBPF interpreter: executes a program with the semantics of RFC 9669 and the kernel
 * (division by zero defined, shifts masked, 32-bit results zero-extended, BPF-to-BPF calls with
 * 8 frames of 512 bytes, helpers by id, tail calls, may_goto, LD_ABS/LD_IND, atomics).
 *
 * The program is checked and pre-decoded once (ProgramLoadError on bad encodings, jumps out of
 * the program or into an lddw, unknown helper ids, kfunc calls). A run never throws anything but
 * VmFault (or TsbpfError for bad run options) and never exceeds its instruction budget.
 */
export class Interpreter {
  readonly program: readonly Instruction[];
  readonly name: string | undefined;
  readonly budget: number;
  readonly helpers: HelperRegistry;
  private readonly mayGotoBudget: number;
  /** @internal */
  readonly loaded: LoadedProgram;
  private state: RunState | null = null;

  constructor(program: readonly Instruction[], options: InterpreterOptions = {}) {
    this.program = program;
    this.name = options.name;
    this.budget = checkBudget(options.budget ?? DEFAULT_BUDGET);
    this.helpers = options.helpers ?? new HelperRegistry();
    this.mayGotoBudget = options.mayGotoBudget ?? DEFAULT_MAY_GOTO_BUDGET;
    this.loaded = loadProgram(
      program,
      this.helpers,
      options.resolvePseudo,
      options.name,
      options.resolveKfunc,
      options.poisoned,
    );
  }

  /** Run the program once. Throws VmFault. */
  run(options: RunOptions = {}): RunResult {
    const memory = options.memory ?? new Memory();
    let st = this.state;
    if (st === null || st.busy) {
      st = new RunState(this.loaded, memory);
      if (this.state === null) this.state = st;
    }
    st.busy = true;
    st.stackSet = memory._activeRuns++;
    try {
      st.prog = this.loaded;
      st.memory = memory;
      st.packet = options.packet;
      st.env = options.env;
      st.root = st;
      st.exitRequested = false;
      st.pendingTail = null;
      st.tailCalls = 0;
      st.mayGotoBudget = this.mayGotoBudget;
      st.lo.fill(0);
      st.hi.fill(0);
      const regs = options.registers;
      if (regs) {
        for (const name in regs) {
          const r = REGISTER_INDEX.get(name);
          const value = (regs as Record<string, unknown>)[name];
          if (r === undefined || typeof value !== "bigint")
            throw new TsbpfError(`run: bad initial register ${name} (registers are r0-r9, values bigint)`);
          setRegister(st.lo, st.hi, r, value);
        }
      }
      st.depth = st.baseDepth = 0;
      st.enterFrame(0);
      st.pc = 0;
      st.count = 0;
      st.budget = checkBudget(options.budget ?? this.budget);
      if (options.trace) traceRun(st, options.trace);
      else {
        st.limit = st.budget;
        execute(st);
      }
      const r0 = st.exitRequested ? st.exitValue : pairToBigInt(st.lo[0]!, st.hi[0]!);
      return { r0, instructions: st.count };
    } finally {
      st.busy = false;
      memory._activeRuns--;
    }
  }
}

function checkBudget(budget: number): number {
  if (!Number.isSafeInteger(budget) || budget < 0)
    throw new TsbpfError(`instruction budget must be a non-negative integer (got ${budget})`);
  return budget;
}

/** Run with a trace: one instruction at a time, comparing registers around each. */
function traceRun(st: RunState, trace: TraceFunction): void {
  const beforeLo = new Int32Array(11);
  const beforeHi = new Int32Array(11);
  for (;;) {
    const pc = st.pc;
    const prog = st.prog;
    const depth = st.depth;
    beforeLo.set(st.lo.subarray(0, 11));
    beforeHi.set(st.hi.subarray(0, 11));
    st.limit = Math.min(st.budget, st.count + 1);
    const done = execute(st);
    const changes: RegisterChange[] = [];
    for (let r = 0; r <= 10; r++) {
      if (beforeLo[r] !== st.lo[r] || beforeHi[r] !== st.hi[r])
        changes.push({
          register: r,
          before: pairToBigInt(beforeLo[r]!, beforeHi[r]!),
          after: pairToBigInt(st.lo[r]!, st.hi[r]!),
        });
    }
    trace({ pc, instruction: prog.instructionAt[pc], depth, program: prog.name, count: st.count, changes });
    if (done) return;
  }
}

const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/**
 * The hot loop. Runs `st` from st.pc until the program exits at st.baseDepth (returns true) or
 * st.count reaches st.limit (returns false; the run can be resumed). Throws VmFault.
 */
function execute(st: RunState): boolean {
  let prog = st.prog;
  let code = prog.code;
  const lo = st.lo;
  const hi = st.hi;
  const memory = st.memory;
  const views = memory._views;
  const rlen = memory._readLengths;
  const wlen = memory._writeLengths;
  const limit = st.limit;
  let pc = st.pc;
  let n = st.count;
  for (;;) {
    if (n >= limit) {
      st.pc = pc;
      st.count = n;
      if (n >= st.budget) throw fault(prog, pc, "budget", `instruction budget of ${st.budget} exhausted`);
      return false;
    }
    n++;
    const b = pc << 2;
    const w = code[b]!;
    pc++;
    switch (w & 0xff) {
      // ---- ALU64, K ----
      case 0x07: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        const a = lo[d]!;
        const r = (a + k) | 0;
        hi[d] = (hi[d]! + (k >> 31) + (r >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        lo[d] = r;
        break;
      }
      case 0x17: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        const a = lo[d]!;
        hi[d] = (hi[d]! - (k >> 31) - (a >>> 0 < k >>> 0 ? 1 : 0)) | 0;
        lo[d] = (a - k) | 0;
        break;
      }
      case 0x27: {
        const k = code[b + 2]!;
        mul64(lo, hi, (w >> 8) & 15, k, k >> 31);
        break;
      }
      case 0x37:
      case 0x97: {
        const k = code[b + 2]!;
        divmod64(lo, hi, (w >> 8) & 15, k, k >> 31, code[b + 1] === 1, (w & 0xf0) === 0x90);
        break;
      }
      case 0x47: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        lo[d] = lo[d]! | k;
        hi[d] = hi[d]! | (k >> 31);
        break;
      }
      case 0x57: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        lo[d] = lo[d]! & k;
        hi[d] = hi[d]! & (k >> 31);
        break;
      }
      case 0x67:
      case 0x6f: {
        const d = (w >> 8) & 15;
        const c = (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!) & 63;
        if (c >= 32) {
          hi[d] = lo[d]! << (c - 32);
          lo[d] = 0;
        } else if (c !== 0) {
          const l = lo[d]!;
          hi[d] = (hi[d]! << c) | (l >>> (32 - c));
          lo[d] = l << c;
        }
        break;
      }
      case 0x77:
      case 0x7f: {
        const d = (w >> 8) & 15;
        const c = (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!) & 63;
        if (c >= 32) {
          lo[d] = hi[d]! >>> (c - 32);
          hi[d] = 0;
        } else if (c !== 0) {
          const h = hi[d]!;
          lo[d] = (lo[d]! >>> c) | (h << (32 - c));
          hi[d] = h >>> c;
        }
        break;
      }
      case 0xc7:
      case 0xcf: {
        const d = (w >> 8) & 15;
        const c = (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!) & 63;
        if (c >= 32) {
          const h = hi[d]!;
          lo[d] = h >> (c - 32);
          hi[d] = h >> 31;
        } else if (c !== 0) {
          const h = hi[d]!;
          lo[d] = (lo[d]! >>> c) | (h << (32 - c));
          hi[d] = h >> c;
        }
        break;
      }
      case 0x87: {
        const d = (w >> 8) & 15;
        const l = lo[d]!;
        lo[d] = -l | 0;
        hi[d] = (~hi[d]! + (l === 0 ? 1 : 0)) | 0;
        break;
      }
      case 0xa7: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        lo[d] = lo[d]! ^ k;
        hi[d] = hi[d]! ^ (k >> 31);
        break;
      }
      case 0xb7: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        lo[d] = k;
        hi[d] = k >> 31;
        break;
      }
      case 0xd7: {
        // bswap16/32/64
        const d = (w >> 8) & 15;
        const width = code[b + 2]!;
        if (width === 16) {
          lo[d] = bswap16(lo[d]!);
          hi[d] = 0;
        } else if (width === 32) {
          lo[d] = bswap32(lo[d]!);
          hi[d] = 0;
        } else {
          const l = lo[d]!;
          lo[d] = bswap32(hi[d]!);
          hi[d] = bswap32(l);
        }
        break;
      }
      // ---- ALU64, X ----
      case 0x0f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        const a = lo[d]!;
        const r = (a + lo[s]!) | 0;
        hi[d] = (hi[d]! + hi[s]! + (r >>> 0 < a >>> 0 ? 1 : 0)) | 0;
        lo[d] = r;
        break;
      }
      case 0x1f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        const a = lo[d]!;
        const k = lo[s]!;
        hi[d] = (hi[d]! - hi[s]! - (a >>> 0 < k >>> 0 ? 1 : 0)) | 0;
        lo[d] = (a - k) | 0;
        break;
      }
      case 0x2f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        if (hi[d] === 0 && hi[s] === 0) {
          // fast path: the product of two values below 2^32 is exact in a double when below 2^53
          const p = (lo[d]! >>> 0) * (lo[s]! >>> 0);
          if (p <= 9007199254740991) {
            lo[d] = p | 0;
            hi[d] = (p / 4294967296) | 0;
            break;
          }
        }
        mul64(lo, hi, d, lo[s]!, hi[s]!);
        break;
      }
      case 0x3f:
      case 0x9f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        const bl = lo[s]!;
        if (hi[d] === 0 && hi[s] === 0 && bl !== 0 && code[b + 1] === 0) {
          // fast path: unsigned, both below 2^32
          const a = lo[d]! >>> 0;
          lo[d] = (w & 0xf0) === 0x90 ? a % (bl >>> 0) : (a / (bl >>> 0)) >>> 0;
          break;
        }
        divmod64(lo, hi, d, bl, hi[s]!, code[b + 1] === 1, (w & 0xf0) === 0x90);
        break;
      }
      case 0x4f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        lo[d] = lo[d]! | lo[s]!;
        hi[d] = hi[d]! | hi[s]!;
        break;
      }
      case 0x5f: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        lo[d] = lo[d]! & lo[s]!;
        hi[d] = hi[d]! & hi[s]!;
        break;
      }
      case 0xaf: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        lo[d] = lo[d]! ^ lo[s]!;
        hi[d] = hi[d]! ^ hi[s]!;
        break;
      }
      case 0xbf: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        lo[d] = lo[s]!;
        hi[d] = hi[s]!;
        break;
      }
      case 0x01: {
        // movsx64 8
        const d = (w >> 8) & 15;
        const v = (lo[(w >>> 12) & 15]! << 24) >> 24;
        lo[d] = v;
        hi[d] = v >> 31;
        break;
      }
      case 0x09: {
        const d = (w >> 8) & 15;
        const v = (lo[(w >>> 12) & 15]! << 16) >> 16;
        lo[d] = v;
        hi[d] = v >> 31;
        break;
      }
      case 0x11: {
        const d = (w >> 8) & 15;
        const v = lo[(w >>> 12) & 15]!;
        lo[d] = v;
        hi[d] = v >> 31;
        break;
      }
      // ---- ALU (32-bit): results zero-extended ----
      case 0x04:
      case 0x0c: {
        const d = (w >> 8) & 15;
        lo[d] = (lo[d]! + (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!)) | 0;
        hi[d] = 0;
        break;
      }
      case 0x14:
      case 0x1c: {
        const d = (w >> 8) & 15;
        lo[d] = (lo[d]! - (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!)) | 0;
        hi[d] = 0;
        break;
      }
      case 0x24:
      case 0x2c: {
        const d = (w >> 8) & 15;
        lo[d] = Math.imul(lo[d]!, w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0x34:
      case 0x3c:
      case 0x94:
      case 0x9c: {
        const d = (w >> 8) & 15;
        const v = w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!;
        lo[d] = divmod32(lo[d]!, v, code[b + 1] === 1, (w & 0xf0) === 0x90);
        hi[d] = 0;
        break;
      }
      case 0x44:
      case 0x4c: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! | (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0x54:
      case 0x5c: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! & (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0x64:
      case 0x6c: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! << (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!); // JS masks the count by 31
        hi[d] = 0;
        break;
      }
      case 0x74:
      case 0x7c: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! >>> (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0xc4:
      case 0xcc: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! >> (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0x84: {
        const d = (w >> 8) & 15;
        lo[d] = -lo[d]! | 0;
        hi[d] = 0;
        break;
      }
      case 0xa4:
      case 0xac: {
        const d = (w >> 8) & 15;
        lo[d] = lo[d]! ^ (w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!);
        hi[d] = 0;
        break;
      }
      case 0xb4:
      case 0xbc: {
        const d = (w >> 8) & 15;
        lo[d] = w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!;
        hi[d] = 0;
        break;
      }
      case 0x02: {
        // movsx32 8
        const d = (w >> 8) & 15;
        lo[d] = (lo[(w >>> 12) & 15]! << 24) >> 24;
        hi[d] = 0;
        break;
      }
      case 0x0a: {
        const d = (w >> 8) & 15;
        lo[d] = (lo[(w >>> 12) & 15]! << 16) >> 16;
        hi[d] = 0;
        break;
      }
      case 0xd4: {
        // le16/32/64: on a little-endian machine, truncation
        const d = (w >> 8) & 15;
        const width = code[b + 2]!;
        if (width === 16) lo[d] = lo[d]! & 0xffff;
        if (width !== 64) hi[d] = 0;
        break;
      }
      case 0xdc: {
        // be16/32/64: byte swap
        const d = (w >> 8) & 15;
        const width = code[b + 2]!;
        if (width === 16) {
          lo[d] = bswap16(lo[d]!);
          hi[d] = 0;
        } else if (width === 32) {
          lo[d] = bswap32(lo[d]!);
          hi[d] = 0;
        } else {
          const l = lo[d]!;
          lo[d] = bswap32(hi[d]!);
          hi[d] = bswap32(l);
        }
        break;
      }
      // ---- loads and stores ----
      case 0x18: {
        const d = (w >> 8) & 15;
        lo[d] = code[b + 2]!;
        hi[d] = code[b + 3]!;
        pc++;
        break;
      }
      case 0x61:
      case 0x69:
      case 0x71:
      case 0x79:
      case 0x81:
      case 0x89:
      case 0x91: {
        const s = (w >>> 12) & 15;
        const rid = hi[s]!;
        const o = (lo[s]! >>> 0) + code[b + 1]!;
        const op = w & 0xff;
        const size = op === 0x79 ? 8 : op === 0x61 || op === 0x81 ? 4 : op === 0x69 || op === 0x89 ? 2 : 1;
        if (!(rid >>> 0 < rlen.length && o >= 0 && o + size <= rlen[rid]!))
          throw memoryFault(memory, prog, pc - 1, lo[s]!, hi[s]!, code[b + 1]!, size, false);
        const v = views[rid]!;
        const d = (w >> 8) & 15;
        switch (op) {
          case 0x61:
            lo[d] = v.getInt32(o, true);
            hi[d] = 0;
            break;
          case 0x69:
            lo[d] = v.getUint16(o, true);
            hi[d] = 0;
            break;
          case 0x71:
            lo[d] = v.getUint8(o);
            hi[d] = 0;
            break;
          case 0x79:
            lo[d] = v.getInt32(o, true);
            hi[d] = v.getInt32(o + 4, true);
            break;
          case 0x81: {
            const x = v.getInt32(o, true);
            lo[d] = x;
            hi[d] = x >> 31;
            break;
          }
          case 0x89: {
            const x = v.getInt16(o, true);
            lo[d] = x;
            hi[d] = x >> 31;
            break;
          }
          default: {
            const x = v.getInt8(o);
            lo[d] = x;
            hi[d] = x >> 31;
          }
        }
        break;
      }
      case 0x62:
      case 0x6a:
      case 0x72:
      case 0x7a:
      case 0x63:
      case 0x6b:
      case 0x73:
      case 0x7b: {
        const d = (w >> 8) & 15;
        const rid = hi[d]!;
        const o = (lo[d]! >>> 0) + code[b + 1]!;
        const sz = w & 0x18;
        const size = sz === 0x18 ? 8 : sz === 0 ? 4 : sz === 8 ? 2 : 1;
        if (!(rid >>> 0 < wlen.length && o >= 0 && o + size <= wlen[rid]!))
          throw memoryFault(memory, prog, pc - 1, lo[d]!, hi[d]!, code[b + 1]!, size, true);
        const v = views[rid]!;
        let vl: number;
        let vh: number;
        if (w & 1) {
          const s = (w >>> 12) & 15;
          vl = lo[s]!;
          vh = hi[s]!;
        } else {
          vl = code[b + 2]!;
          vh = vl >> 31;
        }
        if (size === 4) v.setInt32(o, vl, true);
        else if (size === 8) {
          v.setInt32(o, vl, true);
          v.setInt32(o + 4, vh, true);
        } else if (size === 2) v.setInt16(o, vl, true);
        else v.setInt8(o, vl);
        break;
      }
      case 0xc3:
      case 0xdb:
      case 0xcb:
      case 0xd3: {
        const sz = w & 0x18;
        const f = atomic(
          memory,
          prog,
          pc - 1,
          lo,
          hi,
          (w >> 8) & 15,
          (w >>> 12) & 15,
          code[b + 1]!,
          code[b + 2]!,
          sz === 0x18 ? 8 : sz === 0 ? 4 : sz === 8 ? 2 : 1,
        );
        if (f) throw f;
        break;
      }
      case 0x20:
      case 0x28:
      case 0x30:
      case 0x40:
      case 0x48:
      case 0x50: {
        const packet = st.packet;
        if (packet === undefined)
          throw fault(prog, pc - 1, "no-packet", "LD_ABS/LD_IND but the run has no packet");
        const sz = w & 0x18;
        const size = sz === 0 ? 4 : sz === 8 ? 2 : 1;
        const off = ((w & 0x40 ? lo[(w >>> 12) & 15]! : 0) + code[b + 2]!) | 0;
        if (off < 0 || off + size > packet.bytes.length) {
          // out of the packet: the program ends with r0 = 0, as in the kernel
          st.root.exitRequested = true;
          st.root.exitValue = 0n;
          lo[0] = hi[0] = 0;
          st.pc = pc - 1;
          st.count = n;
          return true;
        }
        const p = packet.bytes;
        lo[0] =
          size === 1
            ? p[off]!
            : size === 2
              ? (p[off]! << 8) | p[off + 1]!
              : (p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!;
        hi[0] = 0;
        break;
      }
      // ---- jumps ----
      case 0x05:
      case 0x06:
        pc = code[b + 1]!;
        break;
      case 0x15:
        if (lo[(w >> 8) & 15] === code[b + 2] && hi[(w >> 8) & 15] === code[b + 2]! >> 31) pc = code[b + 1]!;
        break;
      case 0x1d: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        if (lo[d] === lo[s] && hi[d] === hi[s]) pc = code[b + 1]!;
        break;
      }
      case 0x55: {
        const d = (w >> 8) & 15;
        const k = code[b + 2]!;
        if (lo[d] !== k || hi[d] !== k >> 31) pc = code[b + 1]!;
        break;
      }
      case 0x5d: {
        const d = (w >> 8) & 15;
        const s = (w >>> 12) & 15;
        if (lo[d] !== lo[s] || hi[d] !== hi[s]) pc = code[b + 1]!;
        break;
      }
      case 0x45:
      case 0x4d: {
        const d = (w >> 8) & 15;
        let kl: number;
        let kh: number;
        if (w & 8) {
          kl = lo[(w >>> 12) & 15]!;
          kh = hi[(w >>> 12) & 15]!;
        } else {
          kl = code[b + 2]!;
          kh = kl >> 31;
        }
        if ((lo[d]! & kl) !== 0 || (hi[d]! & kh) !== 0) pc = code[b + 1]!;
        break;
      }
      case 0x25:
      case 0x2d:
      case 0x35:
      case 0x3d:
      case 0xa5:
      case 0xad:
      case 0xb5:
      case 0xbd: {
        // unsigned 64-bit comparisons
        const d = (w >> 8) & 15;
        let kl: number;
        let kh: number;
        if (w & 8) {
          kl = lo[(w >>> 12) & 15]!;
          kh = hi[(w >>> 12) & 15]!;
        } else {
          kl = code[b + 2]!;
          kh = kl >> 31;
        }
        const ah = hi[d]! >>> 0;
        const bh = kh >>> 0;
        const al = lo[d]! >>> 0;
        const bl = kl >>> 0;
        // cmp < 0, = 0, > 0
        const cmp = ah !== bh ? ah - bh : al - bl;
        const op = w & 0xf0;
        if (op === 0x20 ? cmp > 0 : op === 0x30 ? cmp >= 0 : op === 0xa0 ? cmp < 0 : cmp <= 0)
          pc = code[b + 1]!;
        break;
      }
      case 0x65:
      case 0x6d:
      case 0x75:
      case 0x7d:
      case 0xc5:
      case 0xcd:
      case 0xd5:
      case 0xdd: {
        // signed 64-bit comparisons
        const d = (w >> 8) & 15;
        let kl: number;
        let kh: number;
        if (w & 8) {
          kl = lo[(w >>> 12) & 15]!;
          kh = hi[(w >>> 12) & 15]!;
        } else {
          kl = code[b + 2]!;
          kh = kl >> 31;
        }
        const ah = hi[d]!;
        const cmp = ah !== kh ? ah - kh : (lo[d]! >>> 0) - (kl >>> 0);
        const op = w & 0xf0;
        if (op === 0x60 ? cmp > 0 : op === 0x70 ? cmp >= 0 : op === 0xc0 ? cmp < 0 : cmp <= 0)
          pc = code[b + 1]!;
        break;
      }
      // JMP32: compare the low halves
      case 0x16:
      case 0x1e:
      case 0x56:
      case 0x5e:
      case 0x46:
      case 0x4e:
      case 0x26:
      case 0x2e:
      case 0x36:
      case 0x3e:
      case 0xa6:
      case 0xae:
      case 0xb6:
      case 0xbe:
      case 0x66:
      case 0x6e:
      case 0x76:
      case 0x7e:
      case 0xc6:
      case 0xce:
      case 0xd6:
      case 0xde: {
        const a = lo[(w >> 8) & 15]!;
        const k = w & 8 ? lo[(w >>> 12) & 15]! : code[b + 2]!;
        let taken: boolean;
        switch (w & 0xf0) {
          case 0x10:
            taken = a === k;
            break;
          case 0x50:
            taken = a !== k;
            break;
          case 0x40:
            taken = (a & k) !== 0;
            break;
          case 0x20:
            taken = a >>> 0 > k >>> 0;
            break;
          case 0x30:
            taken = a >>> 0 >= k >>> 0;
            break;
          case 0xa0:
            taken = a >>> 0 < k >>> 0;
            break;
          case 0xb0:
            taken = a >>> 0 <= k >>> 0;
            break;
          case 0x60:
            taken = a > k;
            break;
          case 0x70:
            taken = a >= k;
            break;
          case 0xc0:
            taken = a < k;
            break;
          default:
            taken = a <= k;
        }
        if (taken) pc = code[b + 1]!;
        break;
      }
      case 0xe5: {
        // may_goto: fall through while the frame's budget lasts, then jump
        const depth = st.depth;
        const left = st.mayGoto[depth]!;
        if (left > 0) st.mayGoto[depth] = left - 1;
        else pc = code[b + 1]!;
        break;
      }
      // ---- calls ----
      case 0x85:
      case 0x8d: {
        let helper;
        let id: number;
        if (w & 8) {
          // callx: the register holds a helper id (uBPF / bpf_conformance semantics)
          const r = (w >> 8) & 15;
          id = lo[r]!;
          const entry = hi[r] === 0 || hi[r] === -1 ? prog.registry.get(id) : undefined;
          if (!entry)
            throw fault(
              prog,
              pc - 1,
              "bad-helper",
              `callx to ${pairToBigInt(lo[r]!, hi[r]!)}: no such helper`,
            );
          helper = entry.fn;
        } else {
          const index = code[b + 3]!;
          helper = prog.helpers[index]!;
          id = prog.helperIds[index]!;
        }
        st.pc = pc - 1;
        st.count = n;
        st.id = id;
        st.prog = prog;
        try {
          setReturnValue(lo, hi, helper(st));
        } catch (e) {
          throw helperFault(prog, pc - 1, id, e);
        }
        n = st.count;
        if (st.root.exitRequested) {
          st.count = n;
          return true;
        }
        const tail = st.pendingTail;
        if (tail !== null) {
          st.pendingTail = null;
          prog = tail;
          code = tail.code;
          st.prog = tail;
          pc = 0;
          const ctxLo = lo[1]!;
          const ctxHi = hi[1]!;
          lo.fill(0);
          hi.fill(0);
          lo[1] = ctxLo;
          hi[1] = ctxHi;
          st.enterFrame(st.depth);
        }
        break;
      }
      case 0x03: {
        // BPF-to-BPF call
        const depth = st.depth;
        if (depth + 1 >= MAX_CALL_FRAMES)
          throw fault(prog, pc - 1, "call-depth", `call nested deeper than ${MAX_CALL_FRAMES} frames`);
        const f = st.frames;
        const at = depth * FRAME_WORDS;
        f[at] = pc;
        f[at + 1] = lo[6]!;
        f[at + 2] = hi[6]!;
        f[at + 3] = lo[7]!;
        f[at + 4] = hi[7]!;
        f[at + 5] = lo[8]!;
        f[at + 6] = hi[8]!;
        f[at + 7] = lo[9]!;
        f[at + 8] = hi[9]!;
        st.frameProgs[depth] = prog;
        st.depth = depth + 1;
        st.enterFrame(depth + 1);
        pc = code[b + 1]!;
        break;
      }
      case 0x95: {
        const depth = st.depth;
        if (depth === st.baseDepth) {
          st.pc = pc - 1;
          st.count = n;
          return true;
        }
        const f = st.frames;
        const at = (depth - 1) * FRAME_WORDS;
        pc = f[at]!;
        lo[6] = f[at + 1]!;
        hi[6] = f[at + 2]!;
        lo[7] = f[at + 3]!;
        hi[7] = f[at + 4]!;
        lo[8] = f[at + 5]!;
        hi[8] = f[at + 6]!;
        lo[9] = f[at + 7]!;
        hi[9] = f[at + 8]!;
        st.depth = depth - 1;
        lo[10] = STACK_SIZE;
        hi[10] = st.stackIds[depth - 1]!;
        const caller = st.frameProgs[depth - 1]!;
        if (caller !== prog) {
          prog = caller;
          code = caller.code;
          st.prog = caller;
        }
        break;
      }
      case 0x00: {
        const t = prog.traps[code[b + 3]!]!;
        st.pc = pc - 1;
        st.count = n;
        throw fault(prog, pc - 1, t.kind, t.detail, t.cause);
      }
      default:
        // Unreachable: every opcode was validated at load time.
        throw fault(
          prog,
          pc - 1,
          "fell-off-end",
          `internal error: unhandled opcode 0x${(w & 0xff).toString(16)}`,
        );
    }
  }
}
