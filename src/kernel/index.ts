/** The Linux kernel backend: maps, programs, test runs and pinning through bpf(2). */
export * from "./errors.js";
export * from "./map.js";
export * from "./program.js";
export * from "./test-run.js";
export * from "./bpffs.js";
export * from "./object/index.js";
export * from "./attach.js";
export * as sys from "./sys/index.js";
export * as links from "./links/index.js";
export * as uprobe from "./uprobe/index.js";
export { Tracefs, systemTracefs } from "./tracefs.js";
export * as ringbuf from "./ringbuf/index.js";
export * as perf from "./perf/index.js";
export * as features from "./features/index.js";
