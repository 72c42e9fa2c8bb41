import { TsbpfError } from "../../errors.js";
import type { KernelMap } from "../map.js";
import type { KernelProgram } from "../program.js";
import { AttachType, parseAttachType, progAttach, progDetach } from "../sys/index.js";
import { DetachLink } from "./link.js";

const SOCKMAP_HOOKS: ReadonlySet<AttachType> = new Set([
  AttachType.SK_MSG_VERDICT,
  AttachType.SK_SKB_STREAM_PARSER,
  AttachType.SK_SKB_STREAM_VERDICT,
  AttachType.SK_SKB_VERDICT,
]);

/** Where to attach an sk_msg / sk_skb program. */
export interface SockmapOptions {
  /** The sockmap or sockhash (or its fd). */
  map: KernelMap | number;
  /** sk_msg_verdict, sk_skb_stream_parser, sk_skb_stream_verdict or sk_skb_verdict. */
  attachType: AttachType | string;
}

/**
 * Attaches an sk_msg or sk_skb program to a sockmap/sockhash (BPF_PROG_ATTACH with the map as
 * target; sk_skb 4.14, sk_msg 4.17). Closing the link detaches it (BPF_PROG_DETACH).
 */
export function attachSockmap(prog: KernelProgram | number, options: SockmapOptions): DetachLink {
  const attachType = parseAttachType(options.attachType);
  if (!SOCKMAP_HOOKS.has(attachType))
    throw new TsbpfError(`attach type ${AttachType[attachType]?.toLowerCase()} is not a sockmap hook`);
  const mapFd = typeof options.map === "number" ? options.map : options.map.fd;
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const what = `${AttachType[attachType]!.toLowerCase()} on map fd ${mapFd}`;
  progAttach({ target_fd: mapFd, attach_bpf_fd: progFd, attach_type: attachType }, `attach ${what}`);
  return new DetachLink("sockmap", () =>
    progDetach({ target_fd: mapFd, attach_bpf_fd: progFd, attach_type: attachType }, `detach ${what}`),
  );
}
