import { TsbpfError } from "../../errors.js";
import type { KernelProgram } from "../program.js";
import { getProgramInfo } from "../sys/index.js";
import { interfaceIndex } from "./ifindex.js";
import { DetachLink } from "./link.js";
import { NetlinkError, NlmFlags, RtNetlink, type NlAttr } from "./netlink.js";

const RTM_NEWQDISC = 36;
const RTM_DELQDISC = 37;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** TC_H_CLSACT (= TC_H_INGRESS) and its ingress/egress minor handles. */
const TC_H_CLSACT = 0xfffffff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const ETH_P_ALL = 0x0003;
const EEXIST = 17;

/** struct tcmsg */
function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const out = new Uint8Array(20);
  const v = new DataView(out.buffer);
  v.setUint8(0, 0); // AF_UNSPEC
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  v.setUint32(16, info >>> 0, true);
  return out;
}

/** Where to attach a classic tc (cls_bpf) program. */
export interface TcOptions {
  /** The interface: an ifindex or a name in the current network namespace. */
  interface: number | string;
  direction: "ingress" | "egress";
  /** Filter priority (1..65535, default 1): lower runs first. */
  priority?: number;
  /** Filter handle (default 1). */
  handle?: number;
  /** The filter's name in `tc filter show` (default: the program's name). */
  name?: string;
  /**
   * Keep the clsact qdisc when the link closes even if this attachment created it
   * (default: a qdisc created here is removed with the filter).
   */
  keepQdisc?: boolean;
}

/**
 * Attaches a sched_cls program the classic way (any kernel since 4.1): a clsact qdisc
 * (created when missing) and a direct-action cls_bpf filter, through rtnetlink. Closing the
 * link deletes the filter (and the qdisc when it was created here). Prefer tcx on 6.6+.
 */
export function attachTc(prog: KernelProgram | number, options: TcOptions): DetachLink {
  if (options.direction !== "ingress" && options.direction !== "egress")
    throw new TsbpfError(`tc direction must be ingress or egress, not '${String(options.direction)}'`);
  const ifindex = interfaceIndex(options.interface);
  const priority = options.priority ?? 1;
  const handle = options.handle ?? 1;
  if (!Number.isInteger(priority) || priority < 1 || priority > 0xffff)
    throw new TsbpfError(`tc priority ${priority} out of range 1..65535`);
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const name = options.name ?? (typeof prog === "number" ? getProgramInfo(prog).name : prog.name) ?? "tsbpf";
  const parent =
    ((TC_H_CLSACT & 0xffff0000) | (options.direction === "ingress" ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS)) >>>
    0;
  const info = ((priority << 16) | ((ETH_P_ALL << 8) & 0xff00) | (ETH_P_ALL >> 8)) >>> 0; // protocol in network order
  const where = `tc ${options.direction} on ifindex ${ifindex}`;

  const nl = new RtNetlink();
  let createdQdisc = false;
  try {
    const qdisc = tcmsg(ifindex, 0xffff0000, TC_H_CLSACT, 0);
    try {
      nl.request(
        RTM_NEWQDISC,
        NlmFlags.CREATE | NlmFlags.EXCL,
        qdisc,
        [{ type: TCA_KIND, str: "clsact" }],
        `create clsact qdisc for ${where}`,
      );
      createdQdisc = true;
    } catch (e) {
      if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
    }
    const filterAttrs: NlAttr[] = [
      { type: TCA_KIND, str: "bpf" },
      {
        type: TCA_OPTIONS,
        nested: [
          { type: TCA_BPF_FD, u32: progFd },
          { type: TCA_BPF_NAME, str: name || "tsbpf" },
          { type: TCA_BPF_FLAGS, u32: TCA_BPF_FLAG_ACT_DIRECT },
        ],
      },
    ];
    try {
      nl.request(
        RTM_NEWTFILTER,
        NlmFlags.CREATE | NlmFlags.EXCL,
        tcmsg(ifindex, handle, parent, info),
        filterAttrs,
        `attach ${where}`,
      );
    } catch (e) {
      if (createdQdisc && !options.keepQdisc) deleteQdisc(nl, ifindex);
      throw e;
    }
  } catch (e) {
    nl.close();
    throw e;
  }
  return new DetachLink("tc", () => {
    try {
      nl.request(
        RTM_DELTFILTER,
        0,
        tcmsg(ifindex, handle, parent, info),
        [{ type: TCA_KIND, str: "bpf" }],
        `detach ${where}`,
      );
      if (createdQdisc && !options.keepQdisc) deleteQdisc(nl, ifindex);
    } finally {
      nl.close();
    }
  });
}

function deleteQdisc(nl: RtNetlink, ifindex: number): void {
  try {
    nl.request(
      RTM_DELQDISC,
      0,
      tcmsg(ifindex, 0xffff0000, TC_H_CLSACT, 0),
      [{ type: TCA_KIND, str: "clsact" }],
      "delete clsact qdisc",
    );
  } catch {
    // the device may be gone, which removed the qdisc
  }
}
