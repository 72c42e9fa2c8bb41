export * from "./errors.js";
export * as isa from "./isa/index.js";
