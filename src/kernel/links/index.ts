/** Attaching programs: one file per kind of hook, all returning a Link. */
export * from "./link.js";
export {
  PerfEventLink,
  attachToPerfEvent,
  type PerfAttachMode,
  type PerfAttachOptions,
} from "./perf-event-link.js";
export * from "./tracepoint.js";
export * from "./raw-tracepoint.js";
export * from "./tp-btf.js";
export * from "./tracing.js";
export * from "./lsm.js";
export * from "./freplace.js";
export * from "./kprobe.js";
export * from "./kprobe-multi.js";
export * from "./uprobe.js";
export * from "./uprobe-multi.js";
export * from "./perf-event.js";
export * from "./xdp.js";
export * from "./tcx.js";
export * from "./netkit.js";
export * from "./cgroup.js";
export * from "./socket-filter.js";
export * from "./sockmap.js";
export * from "./iter.js";
export * from "./netfilter.js";
export { interfaceIndex } from "./ifindex.js";
export { socketSyscalls, useSocketSyscalls, type SocketInterface } from "./socket-syscalls.js";
export * from "./tc.js";
export { RtNetlink, NetlinkError, encodeAttrs, encodeMessage, parseError, type NlAttr } from "./netlink.js";
