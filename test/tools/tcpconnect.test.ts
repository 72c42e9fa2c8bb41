import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, run, ToolProcess } from "./helpers.js";
import { loopbackSession } from "./tcp-workload.js";

interface ConnectJson {
  pid: number;
  comm: string;
  ip: number;
  saddr: string;
  daddr: string;
  dport: number;
  container?: string | null;
}

const missing = cliMissing();
if (missing) test("tcpconnect", { skip: missing }, () => {});
else
  kernelTest("tcpconnect sees the test's loopback connect() (pid, addresses, port)", async () => {
    const tool = new ToolProcess(["tool", "tcpconnect", "--json", "--containers", "-p", String(process.pid)]);
    let ports: { serverPort: number; clientPort: number };
    try {
      await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
      ports = await loopbackSession(10);
      await tool.waitFor("the connect", () =>
        tool.json<ConnectJson>().some((e) => e.dport === ports.serverPort),
      );
    } finally {
      assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
    }
    const e = tool.json<ConnectJson>().find((x) => x.dport === ports.serverPort)!;
    assert.deepEqual(e, {
      pid: process.pid,
      comm: "node",
      ip: 4,
      saddr: "127.0.0.1",
      daddr: "127.0.0.1",
      dport: ports.serverPort,
      container: null,
    });
  });

const unshare = ((): string | undefined => {
  try {
    execFileSync("unshare", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "unshare(1) not available";
  }
})();

if (!missing)
  kernelTest(
    "tcpconnect --containers-only shows a connect from a new PID+UTS namespace with its nodename",
    async (t) => {
      if (unshare) return t.skip(unshare);
      const nodename = `ctr-${process.pid}`;
      const tool = new ToolProcess(["tool", "tcpconnect", "--json", "--containers-only"]);
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
        await loopbackSession(10); // on the host: must not be shown
        // A "container": new PID and UTS namespaces, its own hostname, one connect to port 9 (refused).
        const script = `hostname ${nodename} && exec ${process.execPath} -e "require('net').connect(9,'127.0.0.1').on('error',()=>{})"`;
        assert.equal(
          await run("unshare", ["--pid", "--uts", "--fork", "--mount-proc", "sh", "-c", script]),
          0,
        );
        await tool.waitFor("the container's connect", () =>
          tool.json<ConnectJson>().some((e) => e.dport === 9),
        );
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const events = tool.json<ConnectJson>();
      assert.ok(events.length >= 1 && events.every((e) => e.container !== null), JSON.stringify(events));
      const e = events.find((x) => x.dport === 9)!;
      assert.equal(e.container, nodename);
      assert.equal(e.comm, "node");
      assert.notEqual(e.pid, 1, "the host's view of the PID, not the namespace's");
    },
  );
