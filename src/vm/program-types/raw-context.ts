/** Test runs of types whose context is plain bytes given by the caller (syscall, tracing types). */
import type { Memory } from "../memory.js";
import type { RuntimeEnv } from "../runtime/env.js";
import { TestRunInputError } from "./errors.js";
import type { PreparedRun, TestRunInput } from "./types.js";

export interface RawContextOptions {
  readonly typeName: string;
  /** Largest ctx_in (bytes). */
  readonly maxSize: number;
  /** Size of the region when ctx_in is shorter (zero-filled), e.g. the struct size. */
  readonly minSize?: number;
  /** Without ctx_in, r1 is 0 (syscall) rather than an empty region. */
  readonly nullWithoutCtx?: boolean;
  readonly writable: boolean;
}

export function prepareRawContext(
  memory: Memory,
  env: RuntimeEnv,
  input: TestRunInput,
  o: RawContextOptions,
): PreparedRun {
  if (input.dataIn && input.dataIn.length > 0)
    throw new TestRunInputError(o.typeName, "data_in is not accepted (the context is given with ctx_in)");
  const given = input.ctxIn ?? new Uint8Array(0);
  if (given.length > o.maxSize)
    throw new TestRunInputError(o.typeName, `ctx_in is ${given.length} bytes, more than ${o.maxSize}`);
  env.packet = undefined;
  env.redirect = undefined;
  if (given.length === 0 && o.nullWithoutCtx) return { ctxAddress: 0n, finish: () => ({}) };
  const bytes = new Uint8Array(Math.max(given.length, o.minSize ?? 0));
  bytes.set(given);
  const ctx = memory.addRegion({
    kind: "context",
    name: `${o.typeName} context`,
    bytes,
    writable: o.writable,
  });
  return {
    ctxAddress: ctx.base,
    finish() {
      memory.removeRegion(ctx);
      return { ctxOut: bytes.slice(0, given.length) };
    },
  };
}
