import { readFileSync } from "node:fs";
import { FormatError, TsbpfError } from "../../errors.js";
import { ElfFile, type ElfSymbol } from "../../elf/index.js";

const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;

/** A function symbol of a binary and where it starts in the file. */
export interface SymbolOffset {
  readonly symbol: string;
  /** st_value: the symbol's virtual address in the ELF file. */
  readonly address: number;
  /** Byte offset in the file (what a uprobe is placed at). */
  readonly offset: number;
  readonly size: number;
}

/**
 * The file offset of virtual address `address`: address - vaddr + offset of the PT_LOAD segment
 * containing it (objects without segments keep the address).
 */
export function addressToFileOffset(elf: ElfFile, address: number): number {
  const loads = elf.segments.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) return address;
  const seg = loads.find((p) => address >= p.vaddr && address < p.vaddr + p.memsz);
  if (!seg)
    throw new TsbpfError(`${elf.file ?? "ELF"}: address 0x${address.toString(16)} is in no loadable segment`);
  return address - seg.vaddr + seg.offset;
}

const defined = (s: ElfSymbol): boolean =>
  s.sectionIndex !== SHN_UNDEF && (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) && s.value !== 0;

/** Finds a defined function symbol in .symtab, then .dynsym (versioned names "f@@V" match "f"). */
export function findFunctionSymbol(elf: ElfFile, name: string): ElfSymbol | undefined {
  const match = (s: ElfSymbol): boolean => defined(s) && (s.name === name || s.name.split("@")[0] === name);
  return elf.symbols.find(match) ?? elf.dynamicSymbols.find(match);
}

/** The file offset of function `symbol` in the ELF file `path` (for a uprobe). */
export function symbolFileOffset(path: string, symbol: string): SymbolOffset {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TsbpfError(`uprobe: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
    });
  }
  let elf: ElfFile;
  try {
    elf = ElfFile.parse(bytes, path);
  } catch (e) {
    if (e instanceof FormatError) throw new TsbpfError(`uprobe: ${e.message}`, { cause: e });
    throw e;
  }
  const sym = findFunctionSymbol(elf, symbol);
  if (!sym) throw new TsbpfError(`uprobe: no function '${symbol}' in ${path} (.symtab or .dynsym)`);
  return { symbol, address: sym.value, offset: addressToFileOffset(elf, sym.value), size: sym.size };
}
