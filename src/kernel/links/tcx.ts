import { TsbpfError } from "../../errors.js";
import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate } from "../sys/index.js";
import { interfaceIndex } from "./ifindex.js";
import { RawLink } from "./link.js";

/** BPF_F_* of multi-program attachment (tcx, netkit, cgroup links since 6.6). */
export enum AnchorFlags {
  REPLACE = 1 << 2,
  BEFORE = 1 << 3,
  AFTER = 1 << 4,
  ID = 1 << 5,
  LINK = 1 << 13,
}

/** Where a program goes among the others of a multi-program hook. */
export type Anchor =
  | { before: "first" | KernelProgram | RawLink }
  | { after: "last" | KernelProgram | RawLink }
  | { beforeId: number; link?: boolean }
  | { afterId: number; link?: boolean };

/** The flags and relative fd/id of an anchor (first/last with no relative object). */
export function anchorFields(anchor: Anchor | undefined): { flags: number; relative: number } {
  if (!anchor) return { flags: 0, relative: 0 };
  const of = (o: KernelProgram | RawLink): { flags: number; relative: number } =>
    o instanceof RawLink ? { flags: AnchorFlags.LINK, relative: o.fd } : { flags: 0, relative: o.fd };
  if ("before" in anchor) {
    if (anchor.before === "first") return { flags: AnchorFlags.BEFORE, relative: 0 };
    const r = of(anchor.before);
    return { flags: AnchorFlags.BEFORE | r.flags, relative: r.relative };
  }
  if ("after" in anchor) {
    if (anchor.after === "last") return { flags: AnchorFlags.AFTER, relative: 0 };
    const r = of(anchor.after);
    return { flags: AnchorFlags.AFTER | r.flags, relative: r.relative };
  }
  const link = anchor.link ? AnchorFlags.LINK : 0;
  if ("beforeId" in anchor)
    return { flags: AnchorFlags.BEFORE | AnchorFlags.ID | link, relative: anchor.beforeId };
  return { flags: AnchorFlags.AFTER | AnchorFlags.ID | link, relative: anchor.afterId };
}

/** Where to attach a tcx program (BPF_PROG_TYPE_SCHED_CLS). */
export interface TcxOptions {
  /** The interface: an ifindex or a name in the current network namespace. */
  interface: number | string;
  direction: "ingress" | "egress";
  /** Position among the hook's programs (default: last). */
  anchor?: Anchor;
  /** Fail unless the hook's revision is still this one (0: no check). */
  expectedRevision?: bigint | number;
}

/** Attaches a tc program through tcx (BPF_LINK_CREATE BPF_TCX_INGRESS/EGRESS, 6.6). */
export function attachTcx(prog: KernelProgram | number, options: TcxOptions): RawLink {
  if (options.direction !== "ingress" && options.direction !== "egress")
    throw new TsbpfError(`tcx direction must be ingress or egress, not '${String(options.direction)}'`);
  const ifindex = interfaceIndex(options.interface);
  const { flags, relative } = anchorFields(options.anchor);
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const fd = linkCreate(
    {
      prog_fd: progFd,
      target_ifindex: ifindex,
      attach_type: options.direction === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS,
      flags,
      "tcx.relative_fd": relative,
      "tcx.expected_revision": options.expectedRevision ?? 0,
    },
    `attach tcx ${options.direction} to ifindex ${ifindex}`,
  );
  return new RawLink(fd, "tcx");
}
