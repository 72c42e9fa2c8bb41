/** Reading BPF ring buffers (BPF_MAP_TYPE_RINGBUF) from userspace. */
export * from "./reader.js";
