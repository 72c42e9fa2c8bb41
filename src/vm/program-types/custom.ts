/**
 * Program types defined from TypeScript: a context layout (which offsets may be read or written,
 * with which sizes), the helpers its programs may call and what the return value means. Programs
 * of the type are checked against the layout at load (see runtime/ctx-access.ts), run on context
 * bytes the host gives, and are usually attached to a Hook (runtime/hook.ts).
 */
import type { ContextAccessKind, ContextLayout } from "../runtime/ctx-access.js";
import { TestRunInputError } from "./errors.js";
import { COMMON_KFUNCS } from "./helper-sets.js";
import type { ProgramTypeDef } from "./types.js";

export interface CustomContextField {
  readonly name: string;
  readonly offset: number;
  /** 1, 2, 4 or 8. */
  readonly size: number;
  readonly access: ContextAccessKind;
  /** Allow reads of part of the field. */
  readonly narrow?: boolean;
}

export interface CustomProgramTypeOptions {
  readonly name: string;
  readonly context: {
    /** Size of the context struct in bytes. */
    readonly size: number;
    readonly fields: readonly CustomContextField[];
  };
  /** Helper names its programs may call (src/isa/helpers.ts spelling, "bpf_ktime_get_ns"); default none. */
  readonly helpers?: readonly string[];
  /** Kfunc names; default the open-coded iterators. */
  readonly kfuncs?: readonly string[];
  /** What a return value means (default: the number). */
  readonly describeReturn?: (retval: number) => string;
}

/** Define a program type. Throws on a malformed layout (fields overlapping or outside the struct). */
export function defineProgramType(options: CustomProgramTypeOptions): ProgramTypeDef {
  const { name, context } = options;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
    throw new TypeError(`program type name '${name}' is not an identifier`);
  if (!Number.isInteger(context.size) || context.size <= 0 || context.size > 0xffff)
    throw new RangeError(`program type '${name}': context size ${context.size} is not in 1..65535`);
  const sorted = [...context.fields].sort((a, b) => a.offset - b.offset);
  sorted.forEach((f, i) => {
    if (![1, 2, 4, 8].includes(f.size))
      throw new RangeError(`program type '${name}': field ${f.name} has size ${f.size}`);
    if (f.offset < 0 || f.offset + f.size > context.size)
      throw new RangeError(
        `program type '${name}': field ${f.name} is outside the ${context.size}-byte context`,
      );
    const prev = sorted[i - 1];
    if (prev && prev.offset + prev.size > f.offset)
      throw new RangeError(`program type '${name}': fields ${prev.name} and ${f.name} overlap`);
  });
  const layout: ContextLayout = {
    name: `${name} context`,
    size: context.size,
    vmSize: context.size,
    fields: sorted,
  };
  return {
    name,
    kernelType: undefined,
    context: layout,
    helpers: options.helpers ?? [],
    kfuncs: options.kfuncs ?? COMMON_KFUNCS,
    describeReturn: options.describeReturn ?? ((r) => `${r}`),
    prepare(memory, env, input) {
      const given = input.ctxIn ?? new Uint8Array(0);
      if (input.dataIn && input.dataIn.length > 0)
        throw new TestRunInputError(name, "data_in is not accepted");
      if (given.length > context.size)
        throw new TestRunInputError(name, `context is ${given.length} bytes, more than ${context.size}`);
      env.packet = undefined;
      env.redirect = undefined;
      const bytes = new Uint8Array(context.size);
      bytes.set(given);
      const ctx = memory.addRegion({ kind: "context", name: layout.name, bytes });
      return {
        ctxAddress: ctx.base,
        finish() {
          memory.removeRegion(ctx);
          return { ctxOut: bytes.slice() };
        },
      };
    },
  };
}
