// Shared inputs of the BTF tests: the running kernel's BTF and the .BTF sections of the bench objects.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ElfFile } from "../../src/elf/index.js";

export const VMLINUX = "/sys/kernel/btf/vmlinux";

/** Why kernel BTF tests skip, or false when /sys/kernel/btf/vmlinux is readable. */
export const noVmlinux: string | false = existsSync(VMLINUX)
  ? false
  : `${VMLINUX} not present (kernel without CONFIG_DEBUG_INFO_BTF)`;

let vmlinuxBytes: Uint8Array | undefined;
export function vmlinux(): Uint8Array {
  return (vmlinuxBytes ??= readFileSync(VMLINUX));
}

/** Paths of the compiled bench objects in the shared material. */
export function benchObjects(): string[] {
  const dir = join(sharedDir(), "bench");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bpf.o"))
    .map((f) => join(dir, f));
}

/** The shared directory, found from either the source tree or dist/. */
export function sharedDir(): string {
  if (process.env.TSBPF_SHARED) return process.env.TSBPF_SHARED;
  for (const up of ["../../../shared", "../../../../shared"]) {
    const p = new URL(up, import.meta.url).pathname;
    if (existsSync(join(p, "bench"))) return p;
  }
  throw new Error("shared material not found: set TSBPF_SHARED");
}

/** A section of an ELF object file. */
export function elfSection(path: string, name: string): Uint8Array {
  const elf = ElfFile.parse(readFileSync(path), path);
  const s = elf.section(name);
  if (!s) throw new Error(`${path}: no ${name} section`);
  return s.data;
}
