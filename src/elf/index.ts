export * from "./constants.js";
export { ElfFile, type ElfSection, type ElfSymbol, type ElfRelocation } from "./elf-file.js";
