/**
 * VmProgram: one program loaded into a VmRuntime (checked, context accesses converted, references
 * resolved), runnable like BPF_PROG_TEST_RUN.
 */
import { TsbpfError } from "../../errors.js";
import type { Instruction } from "../../isa/instruction.js";
import { helperById } from "../../isa/helpers.js";
import { PseudoCall } from "../../isa/opcodes.js";
import { ProgramLoadError } from "../fault.js";
import type { HelperFunction, HelperRegistry } from "../helper-registry.js";
import { Interpreter, type RunOptions } from "../interpreter.js";
import type { KfuncResolver, PseudoResolver } from "../interp-load.js";
import type { Memory } from "../memory.js";
import type { ProgramTypeDef, TestRunInput } from "../program-types/types.js";
import { convertContextAccess } from "./ctx-access.js";
import type { RedirectTarget, RuntimeEnv } from "./env.js";

/** What a test run returns (BPF_PROG_TEST_RUN's outputs). */
export interface TestRunResult {
  /** r0 as the u32 the kernel reports. */
  readonly retval: number;
  /** r0, all 64 bits. */
  readonly r0: bigint;
  readonly dataOut: Uint8Array | undefined;
  readonly ctxOut: Uint8Array | undefined;
  /** Mean wall time of one run (interpreter only, context setup excluded). */
  readonly nsPerRun: number;
  /** Instructions executed by the last run. */
  readonly instructions: number;
  /** What bpf_redirect / bpf_redirect_map recorded in the last run. */
  readonly redirect: RedirectTarget | undefined;
}

export interface TestRunOptions {
  /** Runs on the same context (like the kernel's repeat); the results are the last run's. Default 1. */
  readonly repeat?: number;
  /** CPU to run on (default the runtime env's). */
  readonly cpu?: number;
  /** Instruction budget of each run. */
  readonly budget?: number;
}

/** How a program is built: its code, the type, and the resolvers of its references. */
export interface ProgramBuild {
  readonly name: string;
  readonly type: ProgramTypeDef;
  readonly instructions: readonly Instruction[];
  readonly registry: HelperRegistry;
  readonly resolvePseudo?: PseudoResolver;
  /** Kfunc name of the call at instruction index `i` (from the object's references). */
  readonly kfuncName?: (index: number) => string | undefined;
  readonly kfuncs: Readonly<Record<string, HelperFunction>>;
  readonly budget?: number;
  /**
   * Poisoned instructions by index (CO-RE relocations the target could not satisfy): the program
   * loads, and faults with the error only if one of them runs.
   */
  readonly poisoned?: ReadonlyMap<number, Error>;
}

export class VmProgram {
  readonly name: string;
  readonly type: ProgramTypeDef;
  readonly interpreter: Interpreter;
  /** The instructions the interpreter runs (after CO-RE and context access conversion). */
  readonly instructions: readonly Instruction[];

  /** @internal use VmRuntime.loadProgram / loadObject */
  constructor(
    build: ProgramBuild,
    private readonly memory: Memory,
    private readonly env: RuntimeEnv,
  ) {
    this.name = build.name;
    this.type = build.type;
    checkCalls(build);
    this.instructions = convertWithPoison(build);
    const resolveKfunc: KfuncResolver = (insn, index) => {
      const name = build.kfuncName?.(index);
      const fn = name !== undefined && build.type.kfuncs.includes(name) ? build.kfuncs[name] : undefined;
      return fn && name ? { name, fn } : undefined;
    };
    this.interpreter = new Interpreter(this.instructions, {
      name: build.name,
      helpers: build.registry,
      ...(build.resolvePseudo ? { resolvePseudo: build.resolvePseudo } : {}),
      resolveKfunc,
      ...(build.budget !== undefined ? { budget: build.budget } : {}),
      ...(build.poisoned?.size ? { poisoned: (i: number) => build.poisoned!.get(i) } : {}),
    });
  }

  /** Run once like BPF_PROG_TEST_RUN (see the program type for what `input` means). */
  testRun(input: TestRunInput = {}, options: TestRunOptions = {}): TestRunResult {
    const repeat = options.repeat ?? 1;
    if (!Number.isSafeInteger(repeat) || repeat < 1)
      throw new TsbpfError(`repeat must be a positive integer (got ${repeat})`);
    const env = this.env;
    const savedCpu = env.cpu;
    if (options.cpu !== undefined) {
      if (!Number.isInteger(options.cpu) || options.cpu < 0 || options.cpu >= env.cpus)
        throw new TsbpfError(`cpu ${options.cpu} is not one of the ${env.cpus} possible CPUs`);
      env.cpu = options.cpu;
    }
    const prepared = this.type.prepare(this.memory, env, input);
    let done = false;
    try {
      const runOptions: RunOptions = {
        registers: { r1: prepared.ctxAddress },
        memory: this.memory,
        env,
        packet: prepared.ldAbsPacket,
        budget: options.budget,
      };
      let result = { r0: 0n, instructions: 0 };
      const start = performance.now();
      for (let i = 0; i < repeat; i++) result = this.interpreter.run(runOptions);
      const ns = ((performance.now() - start) * 1e6) / repeat;
      const redirect = env.redirect;
      const out = prepared.finish();
      done = true;
      return {
        retval: Number(result.r0 & 0xffffffffn),
        r0: result.r0,
        dataOut: out.dataOut,
        ctxOut: out.ctxOut,
        nsPerRun: ns,
        instructions: result.instructions,
        redirect,
      };
    } finally {
      if (!done) prepared.finish();
      env.cpu = savedCpu;
    }
  }

  /** Run on context bytes (raw and custom types) and return the u32 result. */
  run(context?: Uint8Array): number {
    return this.testRun(context ? { ctxIn: context } : {}).retval;
  }
}

/** Stand-ins of poisoned instructions for the context access analysis: they end the path there. */
const EXIT: Instruction = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const LDDW_R0: Instruction = { code: 0x18, dst: 0, src: 0, off: 0, imm: 0, imm2: 0 };

/**
 * convertContextAccess, with the poisoned instructions seen as the end of their path (code after
 * them never runs) and put back afterwards (same indexes: the conversion rewrites in place).
 */
function convertWithPoison(build: ProgramBuild): readonly Instruction[] {
  const poisoned = build.poisoned;
  if (!poisoned?.size) return convertContextAccess(build.instructions, build.type.context, build.name);
  const analysed = build.instructions.map((insn, i) =>
    poisoned.has(i) ? (insn.code === 0x18 ? LDDW_R0 : EXIT) : insn,
  );
  return convertContextAccess(analysed, build.type.context, build.name).map((insn, i) =>
    poisoned.has(i) ? build.instructions[i]! : insn,
  );
}

/** Refuse helper calls the type does not offer, naming the helper and its id. */
function checkCalls(build: ProgramBuild): void {
  let slot = 0;
  build.instructions.forEach((insn, i) => {
    const at = slot;
    slot += insn.code === 0x18 ? 2 : 1;
    if (insn.code !== 0x85 || build.poisoned?.has(i)) return;
    if (insn.src === PseudoCall.KFUNC) {
      const name = build.kfuncName?.(i);
      if (name === undefined)
        throw new ProgramLoadError(
          `kfunc call (BTF id ${insn.imm}) has no name in the object`,
          at,
          build.name,
        );
      if (!build.type.kfuncs.includes(name) || !build.kfuncs[name])
        throw new ProgramLoadError(
          `kfunc ${name} (BTF id ${insn.imm}) is not available to ${build.type.name} programs in the VM`,
          at,
          build.name,
        );
      return;
    }
    if (insn.src !== 0 || build.registry.has(insn.imm)) return;
    const spec = helperById(insn.imm);
    const why = spec
      ? `helper ${spec.name} (id ${insn.imm}) is not available to ${build.type.name} programs in the VM`
      : `unknown helper id ${insn.imm}`;
    throw new ProgramLoadError(why, at, build.name);
  });
}
