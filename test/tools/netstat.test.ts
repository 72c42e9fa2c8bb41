import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { decodeSockets } from "../../src/tools/netstat.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { runTool } from "./profiling-helpers.js";

interface Row {
  proto: string;
  local_address: string;
  foreign_address: string;
  state: string;
  user: number;
  inode: number;
}

/** /proc/net/tcp{,6} entries: inode -> (local port, state hex). */
function procTcp(): Map<number, { localPort: number; state: number; uid: number }> {
  const out = new Map<number, { localPort: number; state: number; uid: number }>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      const inode = Number(c[9]);
      if (inode)
        out.set(inode, {
          localPort: parseInt(c[1]!.split(":")[1]!, 16),
          state: parseInt(c[3]!, 16),
          uid: Number(c[7]),
        });
    }
  }
  return out;
}

test("records decode: IPv4 and IPv6 addresses, ports, state names", () => {
  const rec = new Uint8Array(64);
  const v = new DataView(rec.buffer);
  v.setUint16(0, 2, true);
  v.setUint8(2, 10);
  v.setUint16(4, 8080, true);
  rec.set([127, 0, 0, 1], 8);
  v.setBigUint64(56, 1234n, true);
  const [s] = decodeSockets(rec);
  assert.deepEqual(
    { ...s },
    {
      family: 4,
      state: "LISTEN",
      localPort: 8080,
      remotePort: 0,
      localAddress: "127.0.0.1",
      remoteAddress: "0.0.0.0",
      uid: 0,
      recvQ: 0,
      sendQ: 0,
      inode: 1234,
    },
  );
});

kernelTest(
  "netstat lists the test's listening socket and its connection, agreeing with /proc/net/tcp",
  async (t) => {
    const server: Server = createServer((c) => c.on("error", () => {}));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const client: Socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => client.on("connect", resolve));
    t.after(() => client.destroy());

    const r = await runTool("netstat", ["-e", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    const listen = rows.find((x) => x.local_address === `127.0.0.1:${port}` && x.state === "LISTEN");
    assert.ok(listen, `no LISTEN 127.0.0.1:${port} in ${r.stdout}`);
    assert.equal(listen.foreign_address, "0.0.0.0:*");
    assert.equal(listen.proto, "tcp");
    const est = rows.filter(
      (x) =>
        x.state === "ESTABLISHED" &&
        (x.local_address.endsWith(`:${port}`) || x.foreign_address.endsWith(`:${port}`)),
    );
    assert.equal(est.length, 2, "both ends of the loopback connection");
    const proc = procTcp();
    const p = proc.get(listen.inode);
    assert.ok(p, `inode ${listen.inode} not in /proc/net/tcp`);
    assert.equal(p.localPort, port);
    assert.equal(p.state, 10);
    assert.equal(listen.user, p.uid);
    for (const x of rows) {
      if (!x.inode) continue;
      const q = proc.get(x.inode);
      if (q)
        assert.equal(
          q.localPort,
          Number(x.local_address.slice(x.local_address.lastIndexOf(":") + 1)),
          `inode ${x.inode}`,
        );
    }
  },
);

kernelTest("netstat -l: listening sockets only, netstat's header", async () => {
  const r = await runTool("netstat", ["-l"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "Active Internet connections (servers and established)");
  assert.match(lines[1]!, /^Proto Recv-Q Send-Q Local Address {11}Foreign Address {9}State$/);
  for (const l of lines.slice(2)) assert.match(l, /LISTEN\s*$/);
});
