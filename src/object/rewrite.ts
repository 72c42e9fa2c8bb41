/**
 * Changes to an ObjectSpec before it is loaded: the `const volatile` settings of .rodata/.data
 * (a libbpf skeleton's `obj->rodata->targ_pid = pid`, cilium/ebpf's RewriteConstants) and map
 * sizes (bpf_map__set_max_entries). Both return a copy; the spec is not changed.
 */
import { TsbpfError } from "../errors.js";
import type { MapSpec, ObjectSpec } from "./spec.js";

/** A constant's new value: integers and booleans by the variable's size, bytes as they are. */
export type ConstantValue = number | bigint | boolean | string | Uint8Array;

function encodeConstant(name: string, value: ConstantValue, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (value instanceof Uint8Array || typeof value === "string") {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    if (bytes.length > size)
      throw new TsbpfError(`constant '${name}': ${bytes.length} bytes do not fit in ${size}`);
    out.set(bytes);
    return out;
  }
  const n = typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value);
  if (![1, 2, 4, 8].includes(size))
    throw new TsbpfError(`constant '${name}' is ${size} bytes: give bytes, not a number`);
  const bits = BigInt(size * 8);
  if (n >= 1n << bits || n < -(1n << (bits - 1n)))
    throw new TsbpfError(`constant '${name}': ${n} does not fit in ${size} bytes`);
  const wide = new Uint8Array(8);
  new DataView(wide.buffer).setBigUint64(0, BigInt.asUintN(64, n), true);
  return wide.slice(0, size);
}

/**
 * A copy of `spec` whose global variables (in .rodata or .data sections) start with the given
 * values. An unknown name throws, naming the variables there are.
 */
export function rewriteConstants(
  spec: ObjectSpec,
  values: Readonly<Record<string, ConstantValue | undefined>>,
): ObjectSpec {
  const contents = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const global = spec.globals.find(
      (g) =>
        (g.section.startsWith(".rodata") || g.section.startsWith(".data")) &&
        g.variables.some((v) => v.name === name),
    );
    const variable = global?.variables.find((v) => v.name === name);
    const map = global && spec.maps.find((m) => m.name === global.map);
    if (!global || !variable || !map?.contents) {
      const known = spec.globals
        .filter((g) => !g.section.startsWith(".bss"))
        .flatMap((g) => g.variables.map((v) => v.name));
      throw new TsbpfError(
        `${spec.file ?? spec.name}: no constant '${name}' (there are: ${known.join(", ") || "none"})`,
      );
    }
    const bytes = contents.get(map.name) ?? map.contents.slice();
    bytes.set(encodeConstant(name, value, variable.size), variable.offset);
    contents.set(map.name, bytes);
  }
  if (contents.size === 0) return spec;
  const maps: MapSpec[] = spec.maps.map((m) =>
    contents.has(m.name) ? { ...m, contents: contents.get(m.name) } : m,
  );
  return { ...spec, maps };
}

/** A copy of `spec` with some maps' max_entries changed (ring buffer sizes, table sizes). */
export function resizeMaps(spec: ObjectSpec, sizes: Readonly<Record<string, number>>): ObjectSpec {
  for (const name of Object.keys(sizes))
    if (!spec.maps.some((m) => m.name === name))
      throw new TsbpfError(`${spec.file ?? spec.name}: no map '${name}'`);
  return {
    ...spec,
    maps: spec.maps.map((m) => (m.name in sizes ? { ...m, maxEntries: sizes[m.name]! } : m)),
  };
}
