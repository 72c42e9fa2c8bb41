import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, repoRoot, ToolProcess } from "./helpers.js";

const missing = cliMissing();

/** Two network namespaces joined by a veth pair: a (10.199.N.1) and b (10.199.N.2). */
function makeNetns(): { a: string; b: string; vethA: string; ipA: string; remove(): void } {
  const id = (process.pid % 250) + 1;
  const a = `tsbpf-xa-${process.pid}`;
  const b = `tsbpf-xb-${process.pid}`;
  const vethA = `xa${process.pid % 100000}`;
  const vethB = `xb${process.pid % 100000}`;
  const ip = (...args: string[]): void => void execFileSync("ip", args, { stdio: "pipe" });
  const remove = (): void => {
    for (const ns of [a, b]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  };
  try {
    ip("netns", "add", a);
    ip("netns", "add", b);
    ip("link", "add", vethA, "netns", a, "type", "veth", "peer", "name", vethB, "netns", b);
    ip("-n", a, "addr", "add", `10.199.${id}.1/24`, "dev", vethA);
    ip("-n", b, "addr", "add", `10.199.${id}.2/24`, "dev", vethB);
    for (const [ns, dev] of [
      [a, vethA],
      [b, vethB],
    ] as const) {
      ip("-n", ns, "link", "set", dev, "up");
      ip("-n", ns, "link", "set", "lo", "up");
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { a, b, vethA, ipA: `10.199.${id}.1`, remove };
}

const ping = (ns: string, ip: string): boolean =>
  spawnSync("ip", ["netns", "exec", ns, "ping", "-c", "1", "-W", "1", ip], { stdio: "ignore" }).status === 0;

if (missing) test("xdpdrop", { skip: missing }, () => {});
else
  kernelTest(
    "xdpdrop drops pings inside a netns+veth, counts them, and pings pass again after exit",
    async (t) => {
      if (spawnSync("ping", ["-V"], { stdio: "ignore" }).status !== 0)
        return t.skip("ping(8) missing: apt-get install iputils-ping");
      const net = makeNetns();
      try {
        assert.ok(ping(net.b, net.ipA), "ping works before");
        const xdp = new NetnsTool(net.a, ["tool", "xdpdrop", "--json", "-S", "-i", net.vethA]);
        try {
          await xdp.waitFor("attached", () => xdp.stderr.some((l) => l.startsWith("Dropping ICMP")));
          assert.ok(!ping(net.b, net.ipA), "ping dropped while attached");
          assert.ok(!ping(net.b, net.ipA), "ping dropped while attached");
          await xdp.waitFor("a counter line with drops", () =>
            xdp.json<{ drop: number }>().some((r) => r.drop >= 2),
          );
        } finally {
          assert.equal(await xdp.stop(), 0, xdp.stderr.join("\n"));
        }
        assert.match(xdp.stderr.join("\n"), /Detaching xdpdrop from \S+: \d+ passed, \d+ dropped/);
        assert.ok(ping(net.b, net.ipA), "ping works again after exit");
        const link = execFileSync("ip", ["-n", net.a, "link", "show", net.vethA], { encoding: "utf8" });
        assert.doesNotMatch(link, /xdp/, "no XDP program left on the interface");
      } finally {
        net.remove();
      }
    },
  );

/** The tool run inside a network namespace (ip netns exec). */
class NetnsTool extends ToolProcess {
  constructor(ns: string, args: readonly string[]) {
    super(args, ["ip", ["netns", "exec", ns, process.execPath, join(repoRoot(), "bin", "tsbpf.js")]]);
  }
}

test("xdpdrop --pcap runs the same object in the VM (no root needed) and writes the passed packets", () => {
  if (missing) return;
  const dir = tmpdir();
  const input = join(dir, `tsbpf-xdpdrop-${process.pid}.pcap`);
  const output = join(dir, `tsbpf-xdpdrop-${process.pid}-out.pcap`);
  const ipv4 = (proto: number, payload: number[]): number[] => {
    const total = 20 + payload.length;
    return [
      0x45,
      0,
      total >> 8,
      total & 255,
      0,
      1,
      0,
      0,
      64,
      proto,
      0,
      0,
      10,
      0,
      0,
      1,
      10,
      0,
      0,
      2,
      ...payload,
    ];
  };
  const eth = (p: number[]): Uint8Array =>
    Uint8Array.from([...Array(6).fill(2), ...Array(6).fill(4), 8, 0, ...p]);
  const packets = [
    eth(ipv4(1, [8, 0, 0, 0, 0, 1, 0, 1])),
    eth(ipv4(17, [3, 232, 0, 53, 0, 8, 0, 0])),
    eth(ipv4(1, [8, 0, 0, 0, 0, 1, 0, 2])),
  ];
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b2c3d4, true);
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, 65535, true);
  header.setUint32(20, 1, true);
  const records = packets.map((p, i) => {
    const r = new DataView(new ArrayBuffer(16));
    r.setUint32(0, 1, true);
    r.setUint32(4, i, true);
    r.setUint32(8, p.length, true);
    r.setUint32(12, p.length, true);
    return Buffer.concat([new Uint8Array(r.buffer), p]);
  });
  writeFileSync(input, Buffer.concat([new Uint8Array(header.buffer), ...records]));
  try {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot(), "bin", "tsbpf.js"), "tool", "xdpdrop", "--pcap", input, "-o", output, "--json"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { packets: number; pass: number; drop: number };
    assert.deepEqual([summary.packets, summary.pass, summary.drop], [3, 1, 2]);
    const out = readFileSync(output);
    assert.equal(out.length, 24 + 16 + packets[1]!.length, "one packet (the UDP one) written");
    assert.equal(out[24 + 16 + 14 + 9], 17);
  } finally {
    rmSync(input, { force: true });
    rmSync(output, { force: true });
  }
});
