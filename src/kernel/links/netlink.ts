import { TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import { socketSyscalls, type SocketInterface } from "./socket-syscalls.js";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
const NLMSG_ERROR = 2;
const NLMSG_HDRLEN = 16;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

/** nlmsghdr flags. */
export enum NlmFlags {
  REQUEST = 0x1,
  ACK = 0x4,
  EXCL = 0x200,
  CREATE = 0x400,
}

/** A netlink attribute: bytes, a u32, a NUL-terminated string, or nested attributes. */
export type NlAttr =
  | { type: number; u32: number }
  | { type: number; str: string }
  | { type: number; bytes: Uint8Array }
  | { type: number; nested: readonly NlAttr[] };

const align4 = (n: number): number => (n + 3) & ~3;

/** Encodes attributes (struct rtattr + payload, each padded to 4 bytes). */
export function encodeAttrs(attrs: readonly NlAttr[]): Uint8Array {
  const parts = attrs.map((a) => {
    const payload =
      "u32" in a
        ? new Uint8Array(Uint32Array.of(a.u32 >>> 0).buffer)
        : "str" in a
          ? Buffer.from(`${a.str}\0`, "utf8")
          : "nested" in a
            ? encodeAttrs(a.nested)
            : a.bytes;
    const out = new Uint8Array(align4(4 + payload.byteLength));
    const v = new DataView(out.buffer);
    v.setUint16(0, 4 + payload.byteLength, true);
    v.setUint16(2, a.type | ("nested" in a ? 0x8000 /* NLA_F_NESTED */ : 0), true);
    out.set(payload, 4);
    return out;
  });
  return Buffer.concat(parts);
}

/** Encodes one netlink message: header, fixed body (e.g. struct tcmsg), attributes. */
export function encodeMessage(
  type: number,
  flags: number,
  seq: number,
  body: Uint8Array,
  attrs: readonly NlAttr[],
): Uint8Array {
  const attrBytes = encodeAttrs(attrs);
  const len = NLMSG_HDRLEN + align4(body.byteLength) + attrBytes.byteLength;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out.set(body, NLMSG_HDRLEN);
  out.set(attrBytes, NLMSG_HDRLEN + align4(body.byteLength));
  return out;
}

/** A netlink request the kernel refused: the errno and its extended-ack message. */
export class NetlinkError extends SyscallError {
  constructor(
    call: string,
    errno: number,
    readonly extAck: string | undefined,
    context: string,
  ) {
    super(call, errno, { context, hint: extAck });
  }
}

/** The errno and extended-ack message of an NLMSG_ERROR (errno 0 = acknowledged). */
export function parseError(msg: Uint8Array): { errno: number; extAck?: string } {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = v.getUint16(6, true);
  const errno = -v.getInt32(NLMSG_HDRLEN, true) | 0;
  let extAck: string | undefined;
  if (flags & NLM_F_ACK_TLVS) {
    const inner = v.getUint32(NLMSG_HDRLEN + 4, true);
    let at = NLMSG_HDRLEN + 4 + (flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(inner));
    while (at + 4 <= msg.byteLength) {
      const len = v.getUint16(at, true);
      const type = v.getUint16(at + 2, true) & 0x3fff;
      if (len < 4) break;
      if (type === NLMSGERR_ATTR_MSG) {
        const bytes = msg.subarray(at + 4, at + len);
        const nul = bytes.indexOf(0);
        extAck = Buffer.from(bytes.subarray(0, nul < 0 ? bytes.length : nul)).toString("utf8");
      }
      at += align4(len);
    }
  }
  return extAck ? { errno, extAck } : { errno };
}

/** A NETLINK_ROUTE socket sending requests and waiting for their acknowledgements. */
export class RtNetlink {
  readonly #sockets: SocketInterface;
  #fd: number;
  #seq = Math.floor(Date.now() / 1000) & 0x7fffffff;

  constructor(sockets: SocketInterface = socketSyscalls()) {
    this.#sockets = sockets;
    const fd = sockets.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new SyscallError("socket(AF_NETLINK)", -fd, { context: "rtnetlink" });
    this.#fd = fd;
    const addr = new Uint8Array(12);
    new DataView(addr.buffer).setUint16(0, AF_NETLINK, true);
    const r = sockets.bind(fd, addr);
    if (r < 0) {
      sockets.close(fd);
      throw new SyscallError("bind(AF_NETLINK)", -r, { context: "rtnetlink" });
    }
    // Ask for the kernel's error strings (ignored by kernels before 4.12).
    sockets.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, new Uint8Array(Uint32Array.of(1).buffer));
  }

  /** Sends a request with NLM_F_ACK and waits for its acknowledgement; NetlinkError on refusal. */
  request(type: number, flags: number, body: Uint8Array, attrs: readonly NlAttr[], context: string): void {
    if (this.#fd < 0) throw new TsbpfError("rtnetlink socket is closed");
    const seq = ++this.#seq;
    const msg = encodeMessage(type, flags | NlmFlags.REQUEST | NlmFlags.ACK, seq, body, attrs);
    const dest = new Uint8Array(12);
    new DataView(dest.buffer).setUint16(0, AF_NETLINK, true);
    const sent = this.#sockets.sendto(this.#fd, msg, 0, dest);
    if (sent < 0) throw new SyscallError("sendto(AF_NETLINK)", -sent, { context });
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = this.#sockets.recv(this.#fd, buf, 0);
      if (n === -4) continue;
      if (n < 0) throw new SyscallError("recv(AF_NETLINK)", -n, { context });
      const v = new DataView(buf.buffer, 0, n);
      for (let at = 0; at + NLMSG_HDRLEN <= n;) {
        const len = v.getUint32(at, true);
        if (len < NLMSG_HDRLEN) throw new TsbpfError(`${context}: malformed netlink reply`);
        if (v.getUint16(at + 4, true) === NLMSG_ERROR && v.getUint32(at + 8, true) === seq) {
          const { errno, extAck } = parseError(buf.subarray(at, at + len));
          if (errno !== 0) throw new NetlinkError(`RTM ${type}`, errno, extAck, context);
          return;
        }
        at += align4(len);
      }
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#sockets.close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
