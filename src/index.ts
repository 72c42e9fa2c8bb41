export * from "./errors.js";
export * as isa from "./isa/index.js";
export * as elf from "./elf/index.js";
export * as btf from "./btf/index.js";
export * as object from "./object/index.js";
export * as vm from "./vm/index.js";
export * as kernel from "./kernel/index.js";
