/**
 * Classic pcap files: both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d)
 * timestamps. Truncated or inconsistent records are FormatErrors naming the byte offset.
 */
import { FormatError } from "../../errors.js";
import { LINKTYPE_ETHERNET, type Capture, type CapturedPacket } from "./capture.js";

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const HEADER = 24;
const RECORD = 16;
/** Largest record libpcap accepts (its MAXIMUM_SNAPLEN). */
const MAX_RECORD = 262144;

/** Whether `bytes` start like a pcap file. */
export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4);
  return (
    [MAGIC_US, MAGIC_NS].includes(v.getUint32(0, true)) ||
    [MAGIC_US, MAGIC_NS].includes(v.getUint32(0, false))
  );
}

export function readPcap(bytes: Uint8Array, file?: string): Capture {
  if (bytes.length < HEADER)
    throw new FormatError(`pcap header needs ${HEADER} bytes, the file has ${bytes.length}`, file, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if ([MAGIC_US, MAGIC_NS].includes(v.getUint32(0, true))) le = true;
  else if ([MAGIC_US, MAGIC_NS].includes(v.getUint32(0, false))) le = false;
  else throw new FormatError(`not a pcap file (magic ${hex(bytes.subarray(0, 4))})`, file, 0);
  const nano = v.getUint32(0, le) === MAGIC_NS;
  const major = v.getUint16(4, le);
  if (major !== 2) throw new FormatError(`pcap version ${major}.${v.getUint16(6, le)} is not 2.x`, file, 4);
  const linkType = v.getUint32(20, le) & 0x0fffffff; // the top bits carry the FCS length
  const packets: CapturedPacket[] = [];
  let at = HEADER;
  while (at < bytes.length) {
    if (at + RECORD > bytes.length)
      throw new FormatError(`truncated record header (${bytes.length - at} of ${RECORD} bytes)`, file, at);
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const orig = v.getUint32(at + 12, le);
    if (incl > MAX_RECORD)
      throw new FormatError(`record of ${incl} bytes is larger than ${MAX_RECORD}`, file, at + 8);
    if (at + RECORD + incl > bytes.length)
      throw new FormatError(
        `truncated record: ${incl} bytes announced, ${bytes.length - at - RECORD} left`,
        file,
        at,
      );
    if (nano && frac >= 1e9) throw new FormatError(`nanoseconds ${frac} out of range`, file, at + 4);
    if (!nano && frac >= 1e6) throw new FormatError(`microseconds ${frac} out of range`, file, at + 4);
    packets.push({
      data: bytes.slice(at + RECORD, at + RECORD + incl),
      originalLength: Math.max(orig, incl),
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nano ? 1n : 1000n),
      linkType,
    });
    at += RECORD + incl;
  }
  return { format: "pcap", packets };
}

export interface WritePcapOptions {
  /** Nanosecond timestamps (magic 0xa1b23c4d); default microseconds. */
  readonly nanosecond?: boolean;
  readonly linkType?: number;
  readonly snaplen?: number;
}

/** A little-endian pcap file of `packets`. */
export function writePcap(
  packets: readonly Pick<CapturedPacket, "data" | "originalLength" | "timestampNs">[],
  options: WritePcapOptions = {},
): Uint8Array {
  const nano = options.nanosecond ?? false;
  const size = HEADER + packets.reduce((n, p) => n + RECORD + p.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, nano ? MAGIC_NS : MAGIC_US, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, options.snaplen ?? MAX_RECORD, true);
  v.setUint32(20, options.linkType ?? LINKTYPE_ETHERNET, true);
  let at = HEADER;
  for (const p of packets) {
    const unit = nano ? 1n : 1000n;
    v.setUint32(at, Number(p.timestampNs / 1_000_000_000n), true);
    v.setUint32(at + 4, Number((p.timestampNs % 1_000_000_000n) / unit), true);
    v.setUint32(at + 8, p.data.length, true);
    v.setUint32(at + 12, Math.max(p.originalLength, p.data.length), true);
    out.set(p.data, at + RECORD);
    at += RECORD + p.data.length;
  }
  return out;
}

export const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
