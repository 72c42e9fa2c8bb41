/** State shared by the loader's passes over one object, and its error helper. */
import type { Btf, BtfExt, Datasec } from "../btf/index.js";
import type { ElfFile, ElfSection, ElfSymbol } from "../elf/index.js";
import { FormatError } from "../errors.js";

export interface LoadContext {
  readonly elf: ElfFile;
  readonly file: string | undefined;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
  /** libbpf's object name. */
  readonly objectName: string;
}

/** A FormatError about a section: the message names it, the offset is the file offset of `at` inside it. */
export function sectionError(
  ctx: LoadContext,
  section: ElfSection,
  at: number,
  message: string,
): FormatError {
  return new FormatError(
    `section ${section.name || `#${section.index}`}+${at}: ${message}`,
    ctx.file,
    section.offset + at,
  );
}

/** A FormatError about the object as a whole (no precise offset). */
export function objectError(ctx: LoadContext, message: string, offset?: number): FormatError {
  return new FormatError(message, ctx.file, offset);
}

/** The DATASEC of an ELF section in the object's BTF. */
export function datasecOf(btf: Btf | undefined, name: string): Datasec | undefined {
  return btf?.typeByName(name, "datasec");
}

/** The symbol named `name` defined in `section`. */
export function symbolIn(ctx: LoadContext, section: ElfSection, name: string): ElfSymbol | undefined {
  return ctx.elf.symbols.find((s) => s.sectionIndex === section.index && s.name === name);
}
