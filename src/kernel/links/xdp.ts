import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate } from "../sys/index.js";
import { RawLink } from "./link.js";
import { interfaceIndex } from "./ifindex.js";

/** XDP_FLAGS_* of an attachment: where the program runs. */
export enum XdpFlags {
  /** Let the kernel choose (native when the driver supports it). */
  AUTO = 0,
  UPDATE_IF_NOEXIST = 1 << 0,
  /** Generic XDP (skb mode), any device. */
  GENERIC = 1 << 1,
  /** Native XDP in the driver. */
  NATIVE = 1 << 2,
  /** Offloaded to the NIC. */
  OFFLOAD = 1 << 3,
}

/** Where to attach an XDP program. */
export interface XdpOptions {
  /** The interface: an ifindex, or a name (looked up in the current network namespace). */
  interface: number | string;
  /** XdpFlags.GENERIC / NATIVE / OFFLOAD (default: the kernel's choice). */
  flags?: XdpFlags;
}

/**
 * Attaches an XDP program with a BPF link (BPF_LINK_CREATE BPF_XDP, 5.9). Replace the program
 * atomically with link.update(newProg).
 */
export function attachXdp(prog: KernelProgram | number, options: XdpOptions): RawLink {
  const ifindex = interfaceIndex(options.interface);
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const fd = linkCreate(
    { prog_fd: progFd, target_ifindex: ifindex, attach_type: AttachType.XDP, flags: options.flags ?? 0 },
    `attach xdp to ifindex ${ifindex}${typeof options.interface === "string" ? ` (${options.interface})` : ""}`,
  );
  return new RawLink(fd, "xdp");
}
