import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FormatError } from "../../../src/errors.js";
import { readCapture, readPcap, readPcapng, writePcap, writePcapng } from "../../../src/vm/pcap/index.js";

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["../../..", "../../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;
const corpusPcap = new Uint8Array(readFileSync(`${root}bpf/testdata/pings-and-udp.pcap`));

const packets = [
  { data: Uint8Array.of(1, 2, 3), originalLength: 3, timestampNs: 1_700_000_000_123_456_789n },
  { data: new Uint8Array(61).fill(7), originalLength: 100, timestampNs: 5n },
];

test("the corpus capture: 10 Ethernet frames", () => {
  const c = readCapture(corpusPcap, "pings-and-udp.pcap");
  assert.equal(c.format, "pcap");
  assert.equal(c.packets.length, 10);
  assert.ok(c.packets.every((p) => p.linkType === 1 && p.data.length >= 42));
});

test("pcap round trip, microseconds and nanoseconds", () => {
  const us = readPcap(writePcap(packets));
  assert.deepEqual(
    us.packets.map((p) => p.timestampNs),
    [1_700_000_000_123_456_000n, 0n],
  );
  assert.deepEqual(
    us.packets.map((p) => [...p.data]),
    packets.map((p) => [...p.data]),
  );
  assert.deepEqual(
    us.packets.map((p) => p.originalLength),
    [3, 100],
  );
  const ns = readPcap(writePcap(packets, { nanosecond: true }));
  assert.deepEqual(
    ns.packets.map((p) => p.timestampNs),
    [1_700_000_000_123_456_789n, 5n],
  );
});

test("big-endian pcap", () => {
  const le = writePcap(packets, { nanosecond: true });
  const be = new Uint8Array(le.length);
  const src = new DataView(le.buffer);
  const dst = new DataView(be.buffer);
  // header: u32 magic, u16 x2, u32 x4; records: u32 x4 + data
  dst.setUint32(0, src.getUint32(0, true));
  dst.setUint16(4, src.getUint16(4, true));
  dst.setUint16(6, src.getUint16(6, true));
  for (let o = 8; o < 24; o += 4) dst.setUint32(o, src.getUint32(o, true));
  let at = 24;
  while (at < le.length) {
    for (let o = 0; o < 16; o += 4) dst.setUint32(at + o, src.getUint32(at + o, true));
    const n = src.getUint32(at + 8, true);
    be.set(le.subarray(at + 16, at + 16 + n), at + 16);
    at += 16 + n;
  }
  assert.deepEqual(readPcap(be).packets, readPcap(le).packets);
});

test("pcapng round trip (EPB, nanosecond if_tsresol) and a simple packet block", () => {
  const c = readPcapng(writePcapng(packets));
  assert.equal(c.format, "pcapng");
  assert.deepEqual(
    c.packets.map((p) => p.timestampNs),
    packets.map((p) => p.timestampNs),
  );
  assert.deepEqual(
    c.packets.map((p) => [...p.data]),
    packets.map((p) => [...p.data]),
  );
  // append an SPB of 4 bytes
  const spb = new Uint8Array(20);
  const v = new DataView(spb.buffer);
  v.setUint32(0, 3, true);
  v.setUint32(4, 20, true);
  v.setUint32(8, 4, true);
  spb.set([9, 8, 7, 6], 12);
  v.setUint32(16, 20, true);
  const withSpb = readCapture(new Uint8Array([...writePcapng(packets), ...spb]));
  assert.deepEqual([...withSpb.packets[2]!.data], [9, 8, 7, 6]);
});

test("bad captures are FormatErrors naming the offset", () => {
  assert.throws(
    () => readCapture(Uint8Array.of(1, 2, 3, 4, 5)),
    /offset 0: neither a pcap nor a pcapng file/,
  );
  const truncated = corpusPcap.subarray(0, corpusPcap.length - 5);
  assert.throws(
    () => readPcap(truncated, "x.pcap"),
    (e: unknown) => e instanceof FormatError && /x\.pcap: offset \d+: truncated record/.test(e.message),
  );
  const ng = writePcapng(packets);
  const bad = ng.slice();
  new DataView(bad.buffer).setUint32(bad.length - 4, 12, true);
  assert.throws(() => readPcapng(bad), /block lengths disagree/);
  assert.throws(() => readPcap(corpusPcap.subarray(0, 10)), /pcap header needs 24 bytes/);
});
