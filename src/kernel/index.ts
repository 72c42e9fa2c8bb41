/** The Linux kernel backend: maps, programs, test runs and pinning through bpf(2). */
export * from "./errors.js";
export * from "./map.js";
export * from "./program.js";
export * from "./test-run.js";
export * from "./bpffs.js";
export * as sys from "./sys/index.js";
