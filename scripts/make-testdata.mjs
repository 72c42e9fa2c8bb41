#!/usr/bin/env node
// Writes the input packets of the BPF corpus (bpf/testdata/*.bin) and a small pcap
// (bpf/testdata/pings-and-udp.pcap) with a mix of ICMP echo, UDP and TCP packets.
// Every packet is built byte by byte here, with valid IPv4/ICMP/UDP/TCP checksums.
//
//   node scripts/make-testdata.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bpf", "testdata");

const MAC_A = [0x02, 0, 0, 0, 0, 0x01];
const MAC_B = [0x02, 0, 0, 0, 0, 0x02];
const IP_A = [10, 0, 0, 1];
const IP_B = [10, 1, 0, 2];
const IP6_A = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
const IP6_B = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02];

const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;

const u16 = (v) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** RFC 1071 one's-complement checksum of a byte list. */
function checksum(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(dst, src, proto, payload) {
  return [...dst, ...src, ...u16(proto), ...payload];
}

function ipv4(src, dst, protocol, payload, id = 1) {
  const hdr = [0x45, 0, ...u16(20 + payload.length), ...u16(id), 0x40, 0, 64, protocol, 0, 0, ...src, ...dst];
  const sum = checksum(hdr);
  hdr[10] = sum >> 8;
  hdr[11] = sum & 0xff;
  return [...hdr, ...payload];
}

function icmpEcho(type, id, seq, data) {
  const msg = [type, 0, 0, 0, ...u16(id), ...u16(seq), ...data];
  const sum = checksum(msg);
  msg[2] = sum >> 8;
  msg[3] = sum & 0xff;
  return msg;
}

/** UDP or TCP segment with its checksum over the IPv4 pseudo-header. */
function withL4Checksum(src, dst, protocol, segment, csumOffset) {
  const pseudo = [...src, ...dst, 0, protocol, ...u16(segment.length)];
  let sum = checksum([...pseudo, ...segment]);
  if (protocol === 17 && sum === 0) sum = 0xffff;
  segment[csumOffset] = sum >> 8;
  segment[csumOffset + 1] = sum & 0xff;
  return segment;
}

function udp(src, dst, sport, dport, data) {
  const seg = [...u16(sport), ...u16(dport), ...u16(8 + data.length), 0, 0, ...data];
  return withL4Checksum(src, dst, 17, seg, 6);
}

function tcpSyn(src, dst, sport, dport, seq) {
  // data offset 5 words, flags SYN, window 64240
  const seg = [...u16(sport), ...u16(dport), ...u32(seq), ...u32(0), 0x50, 0x02, ...u16(64240), 0, 0, 0, 0];
  return withL4Checksum(src, dst, 6, seg, 16);
}

const pingData = Array.from({ length: 56 }, (_, i) => i & 0xff);
const ascii = (s) => [...Buffer.from(s, "ascii")];

const packets = {
  /** 98 bytes: 10.0.0.1 -> 10.1.0.2 ICMP echo request id 0x1234 seq 1 with 56 data bytes. */
  "eth-ipv4-icmp-echo.bin": ethernet(
    MAC_B,
    MAC_A,
    ETH_P_IP,
    ipv4(IP_A, IP_B, 1, icmpEcho(8, 0x1234, 1, pingData)),
  ),
  /** 60 bytes: 10.0.0.1:12345 -> 10.1.0.2:53 UDP with 18 data bytes. */
  "eth-ipv4-udp.bin": ethernet(
    MAC_B,
    MAC_A,
    ETH_P_IP,
    ipv4(IP_A, IP_B, 17, udp(IP_A, IP_B, 12345, 53, ascii("tsbpf udp payload!")), 2),
  ),
  /** 54 bytes: 10.0.0.1:40000 -> 10.1.0.2:80 TCP SYN. */
  "eth-ipv4-tcp-syn.bin": ethernet(
    MAC_B,
    MAC_A,
    ETH_P_IP,
    ipv4(IP_A, IP_B, 6, tcpSyn(IP_A, IP_B, 40000, 80, 1000), 3),
  ),
  /** 76 bytes: fd00::1 -> fd00::2 UDP 12345 -> 53 with 14 data bytes (checksum left 0: not checked here). */
  "eth-ipv6-udp.bin": ethernet(MAC_B, MAC_A, ETH_P_IPV6, [
    0x60,
    0,
    0,
    0,
    ...u16(22),
    17,
    64,
    ...IP6_A,
    ...IP6_B,
    ...u16(12345),
    ...u16(53),
    ...u16(22),
    0,
    0,
    ...ascii("tsbpf ipv6 udp"),
  ]),
  /** 42 bytes: ARP who-has 10.1.0.2 tell 10.0.0.1, broadcast. */
  "eth-arp-request.bin": ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], MAC_A, ETH_P_ARP, [
    ...u16(1),
    ...u16(ETH_P_IP),
    6,
    4,
    ...u16(1),
    ...MAC_A,
    ...IP_A,
    0,
    0,
    0,
    0,
    0,
    0,
    ...IP_B,
  ]),
};

/** Classic little-endian pcap, LINKTYPE_ETHERNET, fixed timestamps so the file is reproducible. */
function pcap(frames) {
  const parts = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  parts.push(gh);
  frames.forEach((frame, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1700000000 + i, 0);
    rh.writeUInt32LE(i * 1000, 4);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    parts.push(rh, Buffer.from(frame));
  });
  return Buffer.concat(parts);
}

// 10 frames: 4 ICMP echo requests, 2 ICMP echo replies, 3 UDP, 1 TCP SYN -> xdp_drop_icmp drops 6, passes 4.
const mix = [];
for (let seq = 1; seq <= 4; seq++) {
  mix.push(
    ethernet(MAC_B, MAC_A, ETH_P_IP, ipv4(IP_A, IP_B, 1, icmpEcho(8, 0x1234, seq, pingData), 10 + seq)),
  );
  if (seq <= 3)
    mix.push(
      ethernet(
        MAC_B,
        MAC_A,
        ETH_P_IP,
        ipv4(IP_A, IP_B, 17, udp(IP_A, IP_B, 12345, 53, ascii(`query ${seq}`)), 20 + seq),
      ),
    );
  if (seq <= 2)
    mix.push(
      ethernet(MAC_A, MAC_B, ETH_P_IP, ipv4(IP_B, IP_A, 1, icmpEcho(0, 0x1234, seq, pingData), 30 + seq)),
    );
}
mix.push(ethernet(MAC_B, MAC_A, ETH_P_IP, ipv4(IP_A, IP_B, 6, tcpSyn(IP_A, IP_B, 40000, 80, 1000), 40)));

mkdirSync(OUT, { recursive: true });
for (const [name, bytes] of Object.entries(packets)) writeFileSync(join(OUT, name), Buffer.from(bytes));
writeFileSync(join(OUT, "pings-and-udp.pcap"), pcap(mix));
console.log(
  `wrote ${Object.keys(packets).length} packets and pings-and-udp.pcap (${mix.length} frames) to ${OUT}`,
);
