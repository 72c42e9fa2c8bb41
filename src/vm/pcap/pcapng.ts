/**
 * pcapng files: Section Header (both byte orders, several sections), Interface Description
 * (link type, if_tsresol), Enhanced Packet and Simple Packet blocks; other blocks are skipped.
 */
import { FormatError } from "../../errors.js";
import { LINKTYPE_ETHERNET, type Capture, type CapturedPacket } from "./capture.js";
import { hex } from "./pcap.js";

const SHB = 0x0a0d0d0a;
const IDB = 1;
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const IF_TSRESOL = 9;

/** Whether `bytes` start like a pcapng file. */
export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === SHB;
}

interface Interface {
  readonly linkType: number;
  readonly snaplen: number;
  /** Timestamp units per second. */
  readonly unitsPerSecond: bigint;
}

export function readPcapng(bytes: Uint8Array, file?: string): Capture {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: CapturedPacket[] = [];
  let le = true;
  let interfaces: Interface[] = [];
  let at = 0;
  if (!isPcapng(bytes))
    throw new FormatError(`not a pcapng file (first block ${hex(bytes.subarray(0, 4))})`, file, 0);
  while (at < bytes.length) {
    if (at + 12 > bytes.length)
      throw new FormatError(`truncated block header (${bytes.length - at} bytes left)`, file, at);
    let type = v.getUint32(at, le);
    if (v.getUint32(at, true) === SHB) {
      type = SHB;
      if (at + 12 > bytes.length) throw new FormatError("truncated section header", file, at);
      const magic = v.getUint32(at + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (v.getUint32(at + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else
        throw new FormatError(`bad byte-order magic ${hex(bytes.subarray(at + 8, at + 12))}`, file, at + 8);
      interfaces = [];
    }
    const length = v.getUint32(at + 4, le);
    if (length < 12 || length % 4 !== 0)
      throw new FormatError(`block length ${length} is not a multiple of 4 >= 12`, file, at + 4);
    if (at + length > bytes.length)
      throw new FormatError(`block of ${length} bytes runs past the end of the file`, file, at);
    if (v.getUint32(at + length - 4, le) !== length)
      throw new FormatError(
        `block lengths disagree (${length} and ${v.getUint32(at + length - 4, le)})`,
        file,
        at + length - 4,
      );
    const body = at + 8;
    const end = at + length - 4;
    if (type === SHB) {
      const major = v.getUint16(body + 4, le);
      if (major !== 1) throw new FormatError(`pcapng version ${major} is not 1.x`, file, body + 4);
    } else if (type === IDB) {
      if (end - body < 8) throw new FormatError("interface block too short", file, at);
      let unitsPerSecond = 1_000_000n;
      for (const [code, value] of options(v, body + 8, end, le, file)) {
        if (code === IF_TSRESOL && value.length >= 1) {
          const r = value[0]!;
          unitsPerSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
        }
      }
      interfaces.push({
        linkType: v.getUint16(body, le),
        snaplen: v.getUint32(body + 4, le),
        unitsPerSecond,
      });
    } else if (type === EPB) {
      if (end - body < 20) throw new FormatError("enhanced packet block too short", file, at);
      const iface = interfaces[v.getUint32(body, le)];
      if (!iface)
        throw new FormatError(`packet of undeclared interface ${v.getUint32(body, le)}`, file, body);
      const ts = (BigInt(v.getUint32(body + 4, le)) << 32n) | BigInt(v.getUint32(body + 8, le));
      const captured = v.getUint32(body + 12, le);
      if (body + 20 + captured > end)
        throw new FormatError(`packet of ${captured} bytes overruns its block`, file, body + 12);
      packets.push({
        data: bytes.slice(body + 20, body + 20 + captured),
        originalLength: Math.max(v.getUint32(body + 16, le), captured),
        timestampNs: (ts * 1_000_000_000n) / iface.unitsPerSecond,
        linkType: iface.linkType,
      });
    } else if (type === SPB) {
      const iface = interfaces[0];
      if (!iface) throw new FormatError("simple packet block before any interface", file, at);
      const original = v.getUint32(body, le);
      const captured = Math.min(original, end - body - 4, iface.snaplen || original);
      packets.push({
        data: bytes.slice(body + 4, body + 4 + captured),
        originalLength: original,
        timestampNs: 0n,
        linkType: iface.linkType,
      });
    }
    at += length;
  }
  return { format: "pcapng", packets };
}

function* options(
  v: DataView,
  at: number,
  end: number,
  le: boolean,
  file: string | undefined,
): Iterable<[number, Uint8Array]> {
  while (at + 4 <= end) {
    const code = v.getUint16(at, le);
    const len = v.getUint16(at + 2, le);
    if (code === OPT_END) return;
    if (at + 4 + len > end)
      throw new FormatError(`option ${code} of ${len} bytes overruns its block`, file, at);
    yield [code, new Uint8Array(v.buffer, v.byteOffset + at + 4, len)];
    at += 4 + Math.ceil(len / 4) * 4;
  }
}

/** A little-endian pcapng file (one section, one Ethernet interface with nanosecond timestamps, EPBs). */
export function writePcapng(
  packets: readonly Pick<CapturedPacket, "data" | "originalLength" | "timestampNs">[],
  linkType = LINKTYPE_ETHERNET,
): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + Math.ceil(body.length / 4) * 4;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, BYTE_ORDER_MAGIC, true);
  shb.setUint16(4, 1, true);
  shb.setBigInt64(8, -1n, true);
  block(SHB, new Uint8Array(shb.buffer));
  const idb = new DataView(new ArrayBuffer(20));
  idb.setUint16(0, linkType, true);
  idb.setUint32(4, 0, true);
  idb.setUint16(8, IF_TSRESOL, true);
  idb.setUint16(10, 1, true);
  idb.setUint8(12, 9); // nanoseconds
  block(IDB, new Uint8Array(idb.buffer));
  for (const p of packets) {
    const body = new Uint8Array(20 + p.data.length);
    const v = new DataView(body.buffer);
    v.setUint32(4, Number(p.timestampNs >> 32n), true);
    v.setUint32(8, Number(p.timestampNs & 0xffffffffn), true);
    v.setUint32(12, p.data.length, true);
    v.setUint32(16, Math.max(p.originalLength, p.data.length), true);
    body.set(p.data, 20);
    block(EPB, body);
  }
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
