/**
 * ELF constants used by BPF objects (from <elf.h> and LLVM's BPF relocation list).
 * Only the values tsbpf reads are named; others are kept as plain numbers.
 */

/** e_machine of eBPF objects. */
export const EM_BPF = 247;

/** e_type values. */
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

/** Section types (sh_type). */
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

/** Section flags (sh_flags). */
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;

/** Special section indexes (st_shndx). */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

/** Symbol types (low nibble of st_info). */
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

/** Symbol bindings (high nibble of st_info). */
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

/** Symbol visibility (low two bits of st_other). */
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

/** BPF relocation types (r_info low 32 bits). */
export const R_BPF_NONE = 0;
/** lddw of a map or global: 64-bit immediate split over the two slots. */
export const R_BPF_64_64 = 1;
/** 64-bit absolute data (DWARF, .BTF). */
export const R_BPF_64_ABS64 = 2;
/** 32-bit absolute data (DWARF, .BTF.ext). */
export const R_BPF_64_ABS32 = 3;
/** 32-bit data that the dynamic loader must not touch (.BTF / .BTF.ext). */
export const R_BPF_64_NODYLD32 = 4;
/** BPF-to-BPF call or kfunc: 32-bit immediate in instruction units. */
export const R_BPF_64_32 = 10;

/** Sizes of the ELF64 records tsbpf reads. */
export const EHDR64_SIZE = 64;
export const SHDR64_SIZE = 64;
export const SYM64_SIZE = 24;
export const REL64_SIZE = 16;
export const RELA64_SIZE = 24;
