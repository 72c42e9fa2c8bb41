/**
 * The map helpers of the VM: bpf_map_lookup_elem & co, with the kernel's results (value
 * pointers or NULL, 0 or a negative errno). The `struct bpf_map *` argument is a map handle
 * address (see src/vm/maps/map.ts), resolved through the run's MapTable.
 */
import { TsbpfError } from "../../errors.js";
import { helperByName } from "../../isa/helpers.js";
import { MapType } from "../../object/types.js";
import type { HelperArg, HelperCall, HelperFunction, HelperRegistry } from "../helper-registry.js";
import { Errno } from "../maps/constants.js";
import type { MapTable, VmMap } from "../maps/map.js";
import { hexAddress } from "../fault.js";
import { PERF_EVENT_HELPERS } from "./perf-event.js";
import { RINGBUF_HELPERS } from "./ringbuf.js";
import { TAIL_CALL_HELPERS } from "./tail-call.js";

/** What the map helpers need from a run's env. */
export interface MapHelperEnv {
  /** Resolves map handles (memoryMapTable(memory) covers every map created on the run's memory). */
  readonly maps: MapTable;
  /** Index of the CPU the run executes on: selects per-CPU values and BPF_F_CURRENT_CPU. */
  readonly cpu: number;
  /**
   * bpf_perf_event_output with BPF_F_CTXLEN_MASK bits (skb/xdp programs): the first `length`
   * bytes of the packet of context `ctx`; when absent such calls return -EINVAL.
   */
  readonly contextBytes?: (ctx: bigint, length: number) => Uint8Array | undefined;
}

/** Gets the map helpers' env from a call (typically `(call) => (call.env as MyEnv).mapEnv`). */
export type MapEnvAccessor = (call: HelperCall) => MapHelperEnv;

/** The id of a helper by its kernel name (from the one helper table, src/isa/helpers.ts). */
export function helperId(name: string): number {
  const h = helperByName(name);
  if (!h) throw new TsbpfError(`no helper named ${name} in the helper table`);
  return h.id;
}

/** The map whose handle is in argument register `n`; a helper fault when it is not a map. */
export function mapArg(call: HelperCall, env: MapHelperEnv, n: HelperArg): VmMap {
  if (env.maps.mapById && call.argU32(n) === 0) {
    const m = env.maps.mapById(call.argHigh32(n));
    if (m) return m;
  }
  const address = call.arg(n);
  const map = env.maps.mapAt(address);
  if (!map) throw new TsbpfError(`r${n} = ${hexAddress(address)} is not a map`);
  return map;
}

/** Read-only view of `size` bytes at the address in register `n` (empty for size 0). */
export function bytesArg(call: HelperCall, n: HelperArg, size: number, forWrite = false): Uint8Array {
  return size === 0
    ? new Uint8Array(0)
    : call.memory.viewAt(call.argHigh32(n), call.argU32(n), size, forWrite);
}

/** A u64 flags argument as a number; -1 when it has bits above 32 (always invalid). */
export function flagsArg(call: HelperCall, n: HelperArg): number {
  return call.argHigh32(n) !== 0 ? -1 : call.argU32(n);
}

export type Maker = (envOf: MapEnvAccessor) => HelperFunction;

/** Helper name -> implementation, for the element operations. */
export const MAP_HELPERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  [
    "bpf_map_lookup_elem",
    (envOf) => (call) => {
      const env = envOf(call);
      const map = mapArg(call, env, 1);
      return map.lookupElem(bytesArg(call, 2, map.keySize), env.cpu);
    },
  ],
  [
    "bpf_map_update_elem",
    (envOf) => (call) => {
      const env = envOf(call);
      const map = mapArg(call, env, 1);
      const flags = flagsArg(call, 4);
      if (flags < 0) return -Errno.EINVAL;
      return map.updateElem(bytesArg(call, 2, map.keySize), bytesArg(call, 3, map.valueSize), flags, env.cpu);
    },
  ],
  [
    "bpf_map_delete_elem",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 1);
      return map.deleteElem(bytesArg(call, 2, map.keySize));
    },
  ],
  [
    "bpf_map_push_elem",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 1);
      const flags = flagsArg(call, 3);
      if (flags < 0) return -Errno.EINVAL;
      return map.pushElem(bytesArg(call, 2, map.valueSize), flags);
    },
  ],
  [
    "bpf_map_pop_elem",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 1);
      return map.popElem(bytesArg(call, 2, map.valueSize, true));
    },
  ],
  [
    "bpf_map_peek_elem",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 1);
      // A bloom filter's peek reads the value to test; queue and stack write the next value.
      return map.peekElem(bytesArg(call, 2, map.valueSize, map.type !== MapType.BLOOM_FILTER));
    },
  ],
  [
    "bpf_map_lookup_percpu_elem",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 1);
      return map.lookupPercpuElem(bytesArg(call, 2, map.keySize), call.argU32(3));
    },
  ],
  [
    "bpf_for_each_map_elem",
    (envOf) => (call) => {
      const env = envOf(call);
      const map = mapArg(call, env, 1);
      const fn = call.arg(2);
      const ctx = call.arg(3);
      if (flagsArg(call, 4) !== 0) return -Errno.EINVAL;
      // callback(map, key, value, ctx): 0 continues, 1 stops.
      return map.forEachElem(
        env.cpu,
        (key, value) => call.callFunction(fn, map.handle, key, value, ctx) !== 0n,
      );
    },
  ],
]);

/**
 * Register the map helpers (element operations, for_each_map_elem, tail calls, ring buffer and
 * perf event output) under their kernel ids. Returns the registry.
 */
export function registerMapHelpers(registry: HelperRegistry, envOf: MapEnvAccessor): HelperRegistry {
  for (const [name, make] of ALL_HELPERS()) registry.register(helperId(name), name, make(envOf));
  return registry;
}

/** Every helper table of this area (ring buffer, perf event and tail call helpers have their own files). */
function* ALL_HELPERS(): Iterable<[string, Maker]> {
  yield* MAP_HELPERS;
  yield* RINGBUF_HELPERS;
  yield* PERF_EVENT_HELPERS;
  yield* TAIL_CALL_HELPERS;
}
