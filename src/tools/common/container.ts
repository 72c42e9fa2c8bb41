/**
 * Container identity of a process, the guides' definition: a process whose PID namespace is
 * not the root one (level > 0) runs in a container, and the container id is its UTS nodename
 * (Docker and Kubernetes set the hostname to the container id / pod name). The BPF side is
 * bpf/tools/container.h (fill_container(): CO-RE reads of task->thread_pid->level and
 * task->nsproxy->uts_ns->name.nodename); this side decodes what it wrote.
 */
import { cString } from "./format.js";

/** Size of struct container_info in bpf/tools/container.h: u32 level, char nodename[65], pad. */
export const CONTAINER_INFO_SIZE = 72;
/** __NEW_UTS_LEN + 1. */
export const NODENAME_LEN = 65;

export interface ContainerInfo {
  /** Depth of the process's PID namespace (0 = the host's). */
  readonly pidnsLevel: number;
  /** UTS nodename (hostname) the process sees. */
  readonly nodename: string;
}

/** Decodes a struct container_info at `offset` of an event. */
export function decodeContainer(view: DataView, bytes: Uint8Array, offset: number): ContainerInfo {
  return { pidnsLevel: view.getUint32(offset, true), nodename: cString(bytes, offset + 4, NODENAME_LEN) };
}

/** The container id to print: the nodename inside a container, undefined on the host. */
export function containerId(info: ContainerInfo): string | undefined {
  return info.pidnsLevel > 0 ? info.nodename : undefined;
}
