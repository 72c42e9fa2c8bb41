/** Feature probing of the running kernel (like `bpftool feature probe`), memoised. */
export * from "./probe.js";
export * from "./program-types.js";
export * from "./map-types.js";
export * from "./helpers.js";
export * from "./attach.js";
