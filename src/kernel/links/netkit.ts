import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate } from "../sys/index.js";
import { interfaceIndex } from "./ifindex.js";
import { RawLink } from "./link.js";
import { anchorFields, type Anchor } from "./tcx.js";

/** Where to attach a program to a netkit device (6.7). */
export interface NetkitOptions {
  /** The netkit device: an ifindex or a name in the current network namespace. */
  interface: number | string;
  /** "primary" (the host side) or "peer". */
  side: "primary" | "peer";
  anchor?: Anchor;
  expectedRevision?: bigint | number;
}

/** Attaches a program to a netkit device (BPF_LINK_CREATE BPF_NETKIT_PRIMARY/PEER, 6.7). */
export function attachNetkit(prog: KernelProgram | number, options: NetkitOptions): RawLink {
  const ifindex = interfaceIndex(options.interface);
  const { flags, relative } = anchorFields(options.anchor);
  const fd = linkCreate(
    {
      prog_fd: typeof prog === "number" ? prog : prog.fd,
      target_ifindex: ifindex,
      attach_type: options.side === "peer" ? AttachType.NETKIT_PEER : AttachType.NETKIT_PRIMARY,
      flags,
      "netkit.relative_fd": relative,
      "netkit.expected_revision": options.expectedRevision ?? 0,
    },
    `attach netkit ${options.side} to ifindex ${ifindex}`,
  );
  return new RawLink(fd, "netkit");
}
