export * from "./constants.js";
export { ElfFile, type ElfSection, type ElfSymbol, type ElfRelocation, type ElfSegment } from "./elf-file.js";
