/** Finding where a uprobe goes: binaries, libraries and symbol file offsets. */
export * from "./symbol-offset.js";
export * from "./proc-maps.js";
export * from "./ld-cache.js";
export * from "./resolve.js";
