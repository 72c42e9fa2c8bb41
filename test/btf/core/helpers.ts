// Shared inputs of the CO-RE tests: handcrafted BTF, relocation records, tiny programs, and
// BPF C compiled with clang-19 against the running kernel's vmlinux.h.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CoreReloKind,
  encodeBtf,
  parseBtf,
  parseBtfExt,
  type Btf,
  type BtfExt,
  type CoreRelo,
  type EncodableType,
} from "../../../src/btf/index.js";
import { ElfFile } from "../../../src/elf/index.js";
import { decode, type Instruction } from "../../../src/isa/index.js";

export const VMLINUX = "/sys/kernel/btf/vmlinux";
export const noVmlinux: string | false = existsSync(VMLINUX) ? false : `${VMLINUX} not present`;

function has(cmd: string, arg = "--version"): boolean {
  return spawnSync(cmd, [arg], { stdio: "ignore" }).status === 0;
}
/** Why tests that compile BPF C skip, or false. */
export const noToolchain: string | false = !has("clang-19")
  ? "clang-19 not installed"
  : !has("bpftool", "version")
    ? "bpftool not installed"
    : noVmlinux;

/** A struct/union member for EncodableType. */
export const member = (name: string, typeId: number, bitOffset: number, bitfieldSize = 0) => ({
  name,
  typeId,
  bitOffset,
  bitfieldSize,
});

/** Parses handcrafted types (ids from 1 in order). */
export function btfOf(types: EncodableType[], file: string): Btf {
  return parseBtf(encodeBtf(types), { file });
}

/** A relocation record of the instruction in slot `slot`. */
export function relo(slot: number, typeId: number, accessStr: string, kind: CoreReloKind): CoreRelo {
  return { insnOff: slot * 8, typeId, accessStr, accessStrOff: 0, kind };
}

/** `r1 = imm` (mov64). */
export const mov = (imm: number): Instruction => ({ code: 0xb7, dst: 1, src: 0, off: 0, imm });
/** `r0 = *(u32 *)(r1 + off)` (size: 0x00 W, 0x08 H, 0x10 B, 0x18 DW). */
export const ldx = (off: number, size = 0x00): Instruction => ({
  code: 0x61 | size,
  dst: 0,
  src: 1,
  off,
  imm: 0,
});
/** `r1 = value ll`. */
export const lddw = (value: bigint): Instruction => ({
  code: 0x18,
  dst: 1,
  src: 0,
  off: 0,
  imm: Number(BigInt.asIntN(32, value & 0xffffffffn)),
  imm2: Number(BigInt.asIntN(32, value >> 32n)),
});
export const exit: Instruction = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

/** An object's BTF, .BTF.ext and the instructions of each code section. */
export interface RawObject {
  readonly path: string;
  readonly btf: Btf;
  readonly ext: BtfExt;
  readonly sections: Map<string, Instruction[]>;
}

/** Reads an object file with src/elf and src/btf only. */
export function readObject(path: string): RawObject | undefined {
  const elf = ElfFile.parse(readFileSync(path), path);
  const b = elf.section(".BTF");
  const e = elf.section(".BTF.ext");
  if (!b || !e) return undefined;
  const btf = parseBtf(b.data, { file: path });
  const ext = parseBtfExt(e.data, btf, { file: path });
  const sections = new Map<string, Instruction[]>();
  for (const name of ext.coreRelos.keys())
    sections.set(name, decode(elf.section(name)!.data, { file: path }));
  return { path, btf, ext, sections };
}

let headerDir: string | undefined;
/** A directory holding vmlinux.h of the running kernel (bpftool), made once per process. */
function kernelHeaderDir(): string {
  if (headerDir) return headerDir;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const header = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"], {
    maxBuffer: 1 << 28,
  });
  writeFileSync(join(dir, "vmlinux.h"), header);
  return (headerDir = dir);
}

/** Compiles BPF C (which may include "vmlinux.h") into an object file; returns its path. */
export function compileBpf(name: string, source: string): string {
  const dir = kernelHeaderDir();
  writeFileSync(join(dir, `${name}.bpf.c`), source);
  execFileSync(
    "clang-19",
    ["-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86", "-c", `${name}.bpf.c`, "-o", `${name}.bpf.o`],
    { cwd: dir, stdio: "pipe" },
  );
  return join(dir, `${name}.bpf.o`);
}

/** The bytes of a global constant array `name` of an object (in .rodata). */
export function rodataSymbol(path: string, name: string): Uint8Array {
  const elf = ElfFile.parse(readFileSync(path), path);
  const sym = elf.symbol(name);
  if (!sym) throw new Error(`${path}: no symbol ${name}`);
  const section = elf.sections[sym.sectionIndex]!;
  return section.data.subarray(sym.value, sym.value + sym.size);
}
