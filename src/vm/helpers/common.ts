/** Shared pieces of the runtime helpers: errno values, the env accessor, helper table rows. */
import { helperByName } from "../../isa/helpers.js";
import type { HelperCall, HelperFunction, HelperRegistry } from "../helper-registry.js";
import type { RuntimeEnv } from "../runtime/env.js";

/** Linux errno values returned (negated) by helpers. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBUSY: 16,
  EFAULT: 14,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EOPNOTSUPP: 95,
} as const;

/** The RuntimeEnv of a call (every program of a VmRuntime runs with one). */
export const envOf = (call: HelperCall): RuntimeEnv => call.env as RuntimeEnv;

/** One helper implementation, named as in src/isa/helpers.ts (its id comes from there). */
export interface RuntimeHelper {
  readonly name: string;
  readonly fn: HelperFunction;
}

/** Register helper rows by their kernel name; an unknown name is a programming error. */
export function registerHelpers(registry: HelperRegistry, rows: readonly RuntimeHelper[]): HelperRegistry {
  for (const row of rows) {
    const spec = helperByName(row.name);
    if (!spec) throw new Error(`internal: no helper named ${row.name} in src/isa/helpers.ts`);
    registry.register(spec.id, spec.name, row.fn);
  }
  return registry;
}
