import { closeSync, constants, openSync } from "node:fs";
import { TsbpfError } from "../../errors.js";
import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate, parseAttachType } from "../sys/index.js";
import { RawLink } from "./link.js";
import { anchorFields, type Anchor } from "./tcx.js";

/** Attach types a cgroup link accepts (by their libbpf names, e.g. "cgroup_inet_ingress"). */
export const CGROUP_ATTACH_TYPES: ReadonlySet<AttachType> = new Set([
  AttachType.CGROUP_INET_INGRESS,
  AttachType.CGROUP_INET_EGRESS,
  AttachType.CGROUP_INET_SOCK_CREATE,
  AttachType.CGROUP_INET_SOCK_RELEASE,
  AttachType.CGROUP_SOCK_OPS,
  AttachType.CGROUP_DEVICE,
  AttachType.CGROUP_INET4_BIND,
  AttachType.CGROUP_INET6_BIND,
  AttachType.CGROUP_INET4_CONNECT,
  AttachType.CGROUP_INET6_CONNECT,
  AttachType.CGROUP_INET4_POST_BIND,
  AttachType.CGROUP_INET6_POST_BIND,
  AttachType.CGROUP_UDP4_SENDMSG,
  AttachType.CGROUP_UDP6_SENDMSG,
  AttachType.CGROUP_UDP4_RECVMSG,
  AttachType.CGROUP_UDP6_RECVMSG,
  AttachType.CGROUP_SYSCTL,
  AttachType.CGROUP_GETSOCKOPT,
  AttachType.CGROUP_SETSOCKOPT,
  AttachType.CGROUP_INET4_GETPEERNAME,
  AttachType.CGROUP_INET6_GETPEERNAME,
  AttachType.CGROUP_INET4_GETSOCKNAME,
  AttachType.CGROUP_INET6_GETSOCKNAME,
  AttachType.CGROUP_UNIX_CONNECT,
  AttachType.CGROUP_UNIX_SENDMSG,
  AttachType.CGROUP_UNIX_RECVMSG,
  AttachType.CGROUP_UNIX_GETPEERNAME,
  AttachType.CGROUP_UNIX_GETSOCKNAME,
  AttachType.LSM_CGROUP,
]);

/** Where to attach a cgroup program (cgroup_skb, cgroup_sock, sock_addr, sockops, sysctl, device…). */
export interface CgroupOptions {
  /** A cgroup v2 directory (e.g. /sys/fs/cgroup/my.slice), or an open fd of one. */
  cgroup: string | number;
  /** The hook: an AttachType or its libbpf name ("cgroup_inet_ingress", "cgroup_sock_ops"…). */
  attachType: AttachType | string;
  /** Position among the cgroup's programs (6.6). */
  anchor?: Anchor;
  expectedRevision?: bigint | number;
}

/**
 * Attaches a program to a cgroup with a BPF link (BPF_LINK_CREATE with the cgroup directory's
 * fd, 5.7). Links are multi-attach: other programs on the cgroup keep running.
 */
export function attachCgroup(prog: KernelProgram | number, options: CgroupOptions): RawLink {
  const attachType = parseAttachType(options.attachType);
  if (!CGROUP_ATTACH_TYPES.has(attachType))
    throw new TsbpfError(`attach type ${AttachType[attachType]?.toLowerCase()} is not a cgroup hook`);
  const ownFd = typeof options.cgroup === "string";
  let cgroupFd: number;
  try {
    cgroupFd =
      typeof options.cgroup === "number"
        ? options.cgroup
        : openSync(options.cgroup, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new TsbpfError(
      `cgroup ${options.cgroup}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`,
      {
        cause: e,
      },
    );
  }
  try {
    const { flags, relative } = anchorFields(options.anchor);
    const fd = linkCreate(
      {
        prog_fd: typeof prog === "number" ? prog : prog.fd,
        target_fd: cgroupFd,
        attach_type: attachType,
        flags,
        "cgroup.relative_fd": relative,
        "cgroup.expected_revision": options.expectedRevision ?? 0,
      },
      `attach ${AttachType[attachType]?.toLowerCase()} to cgroup ${options.cgroup}`,
    );
    return new RawLink(fd, "cgroup");
  } finally {
    if (ownFd) closeSync(cgroupFd);
  }
}
