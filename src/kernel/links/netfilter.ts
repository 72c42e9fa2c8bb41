import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate } from "../sys/index.js";
import { RawLink } from "./link.js";

/** Protocol families of netfilter hooks (NFPROTO_*). */
export enum NetfilterProtocol {
  IPV4 = 2,
  IPV6 = 10,
}

/** Netfilter hooks (NF_INET_*). */
export enum NetfilterHook {
  PRE_ROUTING = 0,
  LOCAL_IN = 1,
  FORWARD = 2,
  LOCAL_OUT = 3,
  POST_ROUTING = 4,
}

/** Where to attach a netfilter program (BPF_PROG_TYPE_NETFILTER, 6.4). */
export interface NetfilterOptions {
  protocol: NetfilterProtocol;
  hook: NetfilterHook;
  /** Hook priority (lower runs first); must not be INT_MIN/INT_MAX. */
  priority: number;
  /** BPF_F_NETFILTER_IP_DEFRAG (1): defragment first (6.6). */
  flags?: number;
}

/** Attaches a netfilter program in the current network namespace (BPF_LINK_CREATE BPF_NETFILTER, 6.4). */
export function attachNetfilter(prog: KernelProgram | number, options: NetfilterOptions): RawLink {
  const fd = linkCreate(
    {
      prog_fd: typeof prog === "number" ? prog : prog.fd,
      attach_type: AttachType.NETFILTER,
      "netfilter.pf": options.protocol,
      "netfilter.hooknum": options.hook,
      "netfilter.priority": options.priority,
      "netfilter.flags": options.flags ?? 0,
    },
    `attach netfilter ${NetfilterProtocol[options.protocol] ?? options.protocol}/${NetfilterHook[options.hook] ?? options.hook} priority ${options.priority}`,
  );
  return new RawLink(fd, "netfilter");
}
