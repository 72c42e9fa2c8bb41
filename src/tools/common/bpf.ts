/**
 * Finding and loading a tool's BPF object (bpf/tools/NAME.bpf.o in the package), with the
 * `const volatile` settings libbpf-tools put in .rodata (filters, flags) written before the
 * load, as a libbpf skeleton's `obj->rodata->targ_pid = pid` or cilium/ebpf's RewriteConstants.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TsbpfError } from "../../errors.js";
import { KernelCollection } from "../../kernel/index.js";
import { loadObjectSpec, type MapSpec, type ObjectSpec } from "../../object/index.js";

/** A constant's new value: integers and booleans by the variable's size, bytes as they are. */
export type ConstantValue = number | bigint | boolean | string | Uint8Array;

/** The package root (the directory holding bpf/tools), from src/ or from dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "bpf", "tools")) && existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new TsbpfError(
    "cannot find the tsbpf package root (bpf/tools) from " + fileURLToPath(import.meta.url),
  );
}

/** Path of a tool's compiled object: <package>/bpf/tools/NAME.bpf.o. */
export function toolObjectPath(name: string): string {
  return join(packageRoot(), "bpf", "tools", `${name}.bpf.o`);
}

/** Reads and parses a tool's object. */
export function toolObjectSpec(name: string): ObjectSpec {
  const path = toolObjectPath(name);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError(
      `${path}: cannot read (run npm run build:bpf): ${(e as NodeJS.ErrnoException).code}`,
      {
        cause: e,
      },
    );
  }
  return loadObjectSpec(bytes, { file: path });
}

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

export interface LoadToolOptions {
  /** .rodata/.data values to set before loading (see rewriteConstants). */
  readonly constants?: Readonly<Record<string, ConstantValue | undefined>>;
  /** Programs to load (default all). */
  readonly programs?: readonly string[];
  /** max_entries overrides by map name. */
  readonly mapSizes?: Readonly<Record<string, number>>;
}

/** Loads bpf/tools/NAME.bpf.o into the kernel with its settings. */
export function loadToolObject(name: string, options: LoadToolOptions = {}): KernelCollection {
  let spec = toolObjectSpec(name);
  if (options.constants) spec = rewriteConstants(spec, options.constants);
  if (options.mapSizes) spec = resizeMaps(spec, options.mapSizes);
  return KernelCollection.load(spec, options.programs ? { programs: options.programs } : {});
}
