import { FormatError } from "../errors.js";
import {
  EHDR64_SIZE,
  REL64_SIZE,
  RELA64_SIZE,
  SHDR64_SIZE,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  SYM64_SIZE,
} from "./constants.js";

/** One section header with its bytes. */
export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The section's bytes (a view into the file); empty for SHT_NOBITS. */
  readonly data: Uint8Array;
}

/** One entry of the symbol table. */
export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
  /** STV_* */
  readonly visibility: number;
  /** st_shndx (after SHN_XINDEX resolution): a section index or SHN_UNDEF/SHN_ABS/SHN_COMMON. */
  readonly sectionIndex: number;
}

/** One program header (segment) of an executable or shared object. */
export interface ElfSegment {
  /** PT_* (PT_LOAD = 1) */
  readonly type: number;
  /** PF_* (PF_X = 1, PF_W = 2, PF_R = 4) */
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
}

/** One relocation entry (REL or RELA) applying to a section. */
export interface ElfRelocation {
  /** Byte offset inside the section the relocation applies to. */
  readonly offset: number;
  readonly symbolIndex: number;
  readonly symbol: ElfSymbol;
  /** R_BPF_* */
  readonly type: number;
  /** Only for SHT_RELA entries. */
  readonly addend?: number;
}

/** Bounds-checked little-endian reads over the whole file; every failure is a FormatError. */
class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(message: string, offset: number): never {
    throw new FormatError(message, this.file, offset);
  }
  need(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length)
      this.fail(
        `${what} (${length} bytes) extends past the end of the file (${this.bytes.length} bytes)`,
        offset,
      );
  }
  u8(at: number): number {
    this.need(at, 1, "field");
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    this.need(at, 2, "field");
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    this.need(at, 4, "field");
    return this.view.getUint32(at, true);
  }
  /** An unsigned 64-bit field that must fit a JS number exactly. */
  u64(at: number, what: string): number {
    this.need(at, 8, "field");
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} 0x${v.toString(16)} is too large`, at);
    return Number(v);
  }
  i64(at: number, what: string): number {
    this.need(at, 8, "field");
    const v = this.view.getBigInt64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
      this.fail(`${what} ${v} is too large`, at);
    return Number(v);
  }
  /** The r_info field split into symbol index (high 32 bits) and type (low 32 bits). */
  info64(at: number): { sym: number; type: number } {
    return { type: this.u32(at), sym: this.u32(at + 4) };
  }
}

const utf8 = new TextDecoder("utf-8");

/** A NUL-terminated string at `index` inside a string table section. */
function stringAt(r: Reader, table: ElfSection, index: number, where: number, what: string): string {
  if (table.type !== SHT_STRTAB) r.fail(`${what}: section ${table.index} is not a string table`, where);
  if (index >= table.data.length)
    r.fail(
      `${what}: string index ${index} is outside ${table.name || "the string table"} (${table.data.length} bytes)`,
      where,
    );
  const end = table.data.indexOf(0, index);
  if (end < 0) r.fail(`${what}: string at index ${index} is not NUL-terminated`, where);
  return utf8.decode(table.data.subarray(index, end));
}

/**
 * A parsed little-endian ELF64 file (BPF relocatable objects in practice). Section data are views
 * into the input bytes, which must not change afterwards. Every offset and size is checked against
 * the file: malformed input raises FormatError naming the file and the byte offset of the bad field.
 */
export class ElfFile {
  /** e_machine (EM_BPF = 247 for BPF objects). */
  readonly machine: number;
  /** e_type (ET_REL = 1 for objects clang emits). */
  readonly type: number;
  /** e_flags. */
  readonly flags: number;
  /** All sections in header order, index 0 being the null section. */
  readonly sections: readonly ElfSection[];
  /** The entries of the SHT_SYMTAB section (index 0 is the null symbol); empty when there is none. */
  readonly symbols: readonly ElfSymbol[];
  private readonly reader: Reader;
  private readonly byName = new Map<string, ElfSection>();
  private readonly relocationCache = new Map<number, ElfRelocation[]>();

  private constructor(
    bytes: Uint8Array,
    readonly file?: string,
  ) {
    const r = (this.reader = new Reader(bytes, file));
    if (bytes.length < 16) r.fail("not an ELF file (shorter than the ELF identification)", 0);
    if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
      r.fail("not an ELF file (bad magic)", 0);
    if (bytes[4] !== 2) r.fail(`ELF class ${bytes[4]} not supported (only ELF64)`, 4);
    if (bytes[5] !== 1) r.fail(`ELF data encoding ${bytes[5]} not supported (only little endian)`, 5);
    if (bytes[6] !== 1) r.fail(`ELF version ${bytes[6]} not supported`, 6);
    r.need(0, EHDR64_SIZE, "ELF header");
    this.type = r.u16(16);
    this.machine = r.u16(18);
    this.flags = r.u32(48);
    const shoff = r.u64(40, "section header offset");
    const shentsize = r.u16(58);
    let shnum = r.u16(60);
    let shstrndx = r.u16(62);

    if (shoff === 0) {
      this.sections = [];
      this.symbols = [];
      return;
    }
    if (shentsize < SHDR64_SIZE)
      r.fail(`section header size ${shentsize} is smaller than ${SHDR64_SIZE}`, 58);
    r.need(shoff, shentsize, "section header 0");
    // Extended numbering: the real count and string-table index live in section header 0.
    if (shnum === 0) shnum = r.u64(shoff + 32, "section count");
    if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40);
    if (shnum * shentsize > bytes.length - shoff)
      r.fail(`section header table (${shnum} x ${shentsize} bytes) extends past the end of the file`, shoff);

    const raw: Omit<ElfSection, "name">[] = [];
    const nameIndexes: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      const type = r.u32(at + 4);
      const offset = r.u64(at + 24, "section offset");
      const size = r.u64(at + 32, "section size");
      if (type !== SHT_NOBITS && i !== 0) r.need(offset, size, `section ${i} data`);
      nameIndexes.push(r.u32(at));
      raw.push({
        index: i,
        type,
        flags: r.u64(at + 8, "section flags"),
        addr: r.u64(at + 16, "section address"),
        offset,
        size,
        link: r.u32(at + 40),
        info: r.u32(at + 44),
        addralign: r.u64(at + 48, "section alignment"),
        entsize: r.u64(at + 56, "section entry size"),
        data: type === SHT_NOBITS || i === 0 ? new Uint8Array(0) : bytes.subarray(offset, offset + size),
      });
    }
    if (shstrndx !== 0 && shstrndx >= shnum)
      r.fail(`section name table index ${shstrndx} out of range (${shnum} sections)`, 62);
    const names = shstrndx === 0 ? undefined : { ...raw[shstrndx]!, name: "" };
    this.sections = raw.map((s, i) => {
      const where = shoff + i * shentsize;
      const name = names && i !== 0 ? stringAt(r, names, nameIndexes[i]!, where, `section ${i} name`) : "";
      return { ...s, name };
    });
    for (const s of this.sections) if (s.name && !this.byName.has(s.name)) this.byName.set(s.name, s);
    const symtab = this.sections.find((s) => s.type === SHT_SYMTAB);
    this.symbols = symtab ? this.readSymbols(symtab) : [];
  }

  private segmentCache: ElfSegment[] | undefined;
  private dynsymCache: ElfSymbol[] | undefined;

  /** The program headers (segments) of an executable or shared object; empty for objects. */
  get segments(): readonly ElfSegment[] {
    if (this.segmentCache) return this.segmentCache;
    const r = this.reader;
    const phoff = r.u64(32, "program header offset");
    const phentsize = r.u16(54);
    const phnum = r.u16(56);
    const out: ElfSegment[] = [];
    if (phoff !== 0 && phnum !== 0) {
      if (phentsize < 56) r.fail(`program header size ${phentsize} is smaller than 56`, 54);
      r.need(phoff, phnum * phentsize, "program header table");
      for (let i = 0; i < phnum; i++) {
        const at = phoff + i * phentsize;
        out.push({
          type: r.u32(at),
          flags: r.u32(at + 4),
          offset: r.u64(at + 8, "segment offset"),
          vaddr: r.u64(at + 16, "segment address"),
          filesz: r.u64(at + 32, "segment file size"),
          memsz: r.u64(at + 40, "segment memory size"),
        });
      }
    }
    return (this.segmentCache = out);
  }

  /** The entries of the SHT_DYNSYM section (a shared object's exported symbols); empty when none. */
  get dynamicSymbols(): readonly ElfSymbol[] {
    if (this.dynsymCache) return this.dynsymCache;
    const dynsym = this.sections.find((s) => s.type === 11 /* SHT_DYNSYM */);
    return (this.dynsymCache = dynsym ? this.readSymbols(dynsym) : []);
  }

  /** Parse ELF bytes; `file` only names the input in error messages. */
  static parse(bytes: Uint8Array, file?: string): ElfFile {
    return new ElfFile(bytes, file);
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** Sections holding code (SHF_EXECINSTR with bytes). */
  get executableSections(): ElfSection[] {
    return this.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT_NOBITS);
  }

  /** Symbols defined in a section, sorted by value then by index. */
  symbolsIn(section: ElfSection): ElfSymbol[] {
    return this.symbols
      .filter((s) => s.sectionIndex === section.index)
      .sort((a, b) => a.value - b.value || a.index - b.index);
  }

  /** The symbol with this name (the first when several share it). */
  symbol(name: string): ElfSymbol | undefined {
    return this.symbols.find((s) => s.name === name);
  }

  /**
   * Relocations that apply to `section`, from every SHT_REL / SHT_RELA section whose sh_info
   * names it, in file order.
   */
  relocationsFor(section: ElfSection): ElfRelocation[] {
    const cached = this.relocationCache.get(section.index);
    if (cached) return cached;
    const out: ElfRelocation[] = [];
    for (const rel of this.sections)
      if ((rel.type === SHT_REL || rel.type === SHT_RELA) && rel.info === section.index && rel.index !== 0)
        out.push(...this.readRelocations(rel, section));
    this.relocationCache.set(section.index, out);
    return out;
  }

  private readSymbols(symtab: ElfSection): ElfSymbol[] {
    const r: Reader = this.reader;
    const where = symtab.offset;
    if (symtab.entsize !== SYM64_SIZE)
      r.fail(`symbol table entry size ${symtab.entsize}, expected ${SYM64_SIZE}`, where);
    if (symtab.size % SYM64_SIZE !== 0)
      r.fail(`symbol table size ${symtab.size} is not a multiple of ${SYM64_SIZE}`, where);
    const strtab = this.sections[symtab.link];
    if (!strtab || symtab.link === 0)
      r.fail(`symbol table string section ${symtab.link} out of range`, where);
    const xindex = this.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
    const count = symtab.size / SYM64_SIZE;
    const out: ElfSymbol[] = [];
    for (let i = 0; i < count; i++) {
      const at = symtab.offset + i * SYM64_SIZE;
      const info = r.u8(at + 4);
      let sectionIndex = r.u16(at + 6);
      if (sectionIndex === SHN_XINDEX) {
        if (!xindex || xindex.size < (i + 1) * 4)
          r.fail(`symbol ${i} uses SHN_XINDEX but has no extended section index`, at + 6);
        sectionIndex = r.u32(xindex.offset + i * 4);
      }
      if (sectionIndex >= this.sections.length && sectionIndex < SHN_LORESERVE)
        r.fail(
          `symbol ${i} section index ${sectionIndex} out of range (${this.sections.length} sections)`,
          at + 6,
        );
      out.push({
        index: i,
        name: i === 0 ? "" : stringAt(r, strtab, r.u32(at), at, `symbol ${i} name`),
        value: r.u64(at + 8, "symbol value"),
        size: r.u64(at + 16, "symbol size"),
        type: info & 0x0f,
        bind: info >> 4,
        visibility: r.u8(at + 5) & 0x03,
        sectionIndex,
      });
    }
    return out;
  }

  private readRelocations(rel: ElfSection, target: ElfSection): ElfRelocation[] {
    const r: Reader = this.reader;
    const rela = rel.type === SHT_RELA;
    const entsize = rela ? RELA64_SIZE : REL64_SIZE;
    if (rel.size % entsize !== 0)
      r.fail(
        `relocation section ${rel.name || rel.index} size ${rel.size} is not a multiple of ${entsize}`,
        rel.offset,
      );
    const symtab = this.sections[rel.link];
    if (!symtab || symtab.type !== SHT_SYMTAB)
      r.fail(
        `relocation section ${rel.name || rel.index} links to section ${rel.link}, not the symbol table`,
        rel.offset,
      );
    const out: ElfRelocation[] = [];
    for (let at = rel.offset; at < rel.offset + rel.size; at += entsize) {
      const offset = r.u64(at, "relocation offset");
      const { sym, type } = r.info64(at + 8);
      const symbol = this.symbols[sym];
      if (!symbol)
        r.fail(`relocation symbol index ${sym} out of range (${this.symbols.length} symbols)`, at + 12);
      if (offset >= target.size && target.type !== SHT_NOBITS)
        r.fail(
          `relocation offset ${offset} is outside ${target.name || target.index} (${target.size} bytes)`,
          at,
        );
      const entry: ElfRelocation = { offset, symbolIndex: sym, symbol, type };
      out.push(rela ? { ...entry, addend: r.i64(at + 16, "relocation addend") } : entry);
    }
    return out;
  }
}
