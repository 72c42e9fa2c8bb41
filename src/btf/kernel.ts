/**
 * The running kernel's BTF (/sys/kernel/btf/vmlinux) and module BTF (/sys/kernel/btf/<module>,
 * split BTF on top of vmlinux). The only file in src/btf that touches the file system.
 */
import { readFileSync } from "node:fs";
import { NotSupportedError, TsbpfError } from "../errors.js";
import { parseBtf, type Btf } from "./Btf.js";

export const KERNEL_BTF_DIR = "/sys/kernel/btf";
export const KERNEL_BTF_PATH = `${KERNEL_BTF_DIR}/vmlinux`;

let kernelBtf: Btf | undefined;

function read(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new NotSupportedError(
        what,
        `${path} does not exist (kernel built without CONFIG_DEBUG_INFO_BTF?)`,
        {
          cause: e,
        },
      );
    }
    throw new TsbpfError(`${path}: cannot read (${code ?? String(e)})`, { cause: e });
  }
}

/** The running kernel's BTF, read and parsed once (pass `path` to read another file, uncached). */
export function loadKernelBtf(path?: string): Btf {
  if (path !== undefined && path !== KERNEL_BTF_PATH)
    return parseBtf(read(path, "kernel BTF"), { file: path });
  return (kernelBtf ??= parseBtf(read(KERNEL_BTF_PATH, "kernel BTF"), { file: KERNEL_BTF_PATH }));
}

/** A kernel module's BTF (split BTF whose base is the kernel's). */
export function loadModuleBtf(module: string, base: Btf = loadKernelBtf()): Btf {
  if (!/^[\w.-]+$/.test(module) || module === "vmlinux") throw new TsbpfError(`bad module name '${module}'`);
  const path = `${KERNEL_BTF_DIR}/${module}`;
  return parseBtf(read(path, `BTF of module ${module}`), { base, file: path });
}
