/**
 * Every helper and kfunc the VM runtime implements, and the registry a program type gets: the
 * runtime's helpers (this directory) plus the map helpers (./maps.ts), filtered by the names the
 * type allows.
 */
import { helperByName } from "../../isa/helpers.js";
import type { HelperFunction } from "../helper-registry.js";
import { HelperRegistry } from "../helper-registry.js";
import type { RuntimeEnv } from "../runtime/env.js";
import type { RuntimeHelper } from "./common.js";
import { CPU_HELPERS } from "./cpu.js";
import { ITER_NUM_KFUNCS } from "./iter-num.js";
import { LOOP_HELPERS } from "./loop.js";
import { registerMapHelpers } from "./maps.js";
import { PRINTK_HELPERS } from "./printk.js";
import { PROBE_READ_HELPERS } from "./probe-read.js";
import { RANDOM_HELPERS } from "./random.js";
import { SKB_HELPERS } from "./skb.js";
import { STRING_HELPERS } from "./string.js";
import { TASK_HELPERS } from "./task.js";
import { TIME_HELPERS } from "./time.js";
import { REDIRECT_MAP_HELPERS, XDP_HELPERS } from "./xdp.js";

export { Errno, type RuntimeHelper, registerHelpers } from "./common.js";
export { formatBpf, MAX_BPRINTF_VARARGS, MAX_TRACE_PRINTK_ARGS } from "./printk.js";
export { BPF_MAX_LOOPS } from "./loop.js";
export { BPF_FIB_LKUP_RET_NOT_FWDED, csumFold, csumPartial } from "./skb.js";

/** The runtime's helpers (map helpers excluded: they come from ./maps.ts). */
export const RUNTIME_HELPERS: readonly RuntimeHelper[] = [
  ...TIME_HELPERS,
  ...RANDOM_HELPERS,
  ...CPU_HELPERS,
  ...PRINTK_HELPERS,
  ...LOOP_HELPERS,
  ...STRING_HELPERS,
  ...TASK_HELPERS,
  ...PROBE_READ_HELPERS,
  ...XDP_HELPERS,
  ...REDIRECT_MAP_HELPERS,
  ...SKB_HELPERS,
];

/** Kfunc implementations by name. */
export const RUNTIME_KFUNCS: Readonly<Record<string, HelperFunction>> = { ...ITER_NUM_KFUNCS };

let everything: HelperRegistry | undefined;

/** A registry of every implemented helper (map helpers included). */
export function allHelpers(): HelperRegistry {
  if (everything) return everything;
  const r = new HelperRegistry();
  registerMapHelpers(r, (call) => call.env as RuntimeEnv);
  for (const row of RUNTIME_HELPERS) {
    const spec = helperByName(row.name);
    if (!spec) throw new Error(`internal: no helper named ${row.name} in src/isa/helpers.ts`);
    r.register(spec.id, spec.name, row.fn);
  }
  return (everything = r);
}

/** The helpers among `names` that the VM implements, as a registry (unimplemented names are left out). */
export function helperRegistryFor(names: readonly string[]): HelperRegistry {
  const all = allHelpers();
  const r = new HelperRegistry();
  for (const name of names) {
    const spec = helperByName(name);
    const entry = spec ? all.get(spec.id) : undefined;
    if (entry) r.register(entry.id, entry.name, entry.fn);
  }
  return r;
}
