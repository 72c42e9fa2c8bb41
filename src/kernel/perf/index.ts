/** perf events: opening them, and reading BPF perf buffers (BPF_MAP_TYPE_PERF_EVENT_ARRAY). */
export * from "./event.js";
export * from "./reader.js";
