/**
 * Finding and loading a tool's BPF object (bpf/tools/NAME.bpf.o in the package), with the
 * `const volatile` settings libbpf-tools put in .rodata (filters, flags) written before the
 * load (rewriteConstants, in the object layer).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TsbpfError } from "../../errors.js";
import { KernelCollection } from "../../kernel/index.js";
import {
  loadObjectSpec,
  resizeMaps,
  rewriteConstants,
  type ConstantValue,
  type ObjectSpec,
} from "../../object/index.js";

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
