import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, ToolProcess } from "./helpers.js";
import { loopbackSession } from "./tcp-workload.js";

interface SessionJson {
  pid: number;
  comm: string;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  tx_bytes: number;
  rx_bytes: number;
  ms: number;
}

const missing = cliMissing();
if (missing) test("tcplife", { skip: missing }, () => {});
else
  kernelTest(
    "tcplife sees a loopback session (ports, bytes both ways) and exports it to Prometheus",
    async () => {
      const tool = new ToolProcess([
        "tool",
        "tcplife",
        "--json",
        "-p",
        String(process.pid),
        "--prometheus",
        "127.0.0.1:0",
      ]);
      let ports: { serverPort: number; clientPort: number };
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
        ports = await loopbackSession(10000);
        await tool.waitFor("both ends", () => tool.json().length >= 2);
        const address = /metrics at http:\/\/(\S+)\/metrics/.exec(tool.stderr.join("\n"))![1]!;
        const text = await (await fetch(`http://${address}/metrics`)).text();
        assert.match(text, /^tsbpf_tcplife_sessions_total\{comm="node",tool="tcplife"\} 2$/m);
        // bytes_acked/bytes_received count the FIN too (as in BCC): 10000 + 0..2 per session and way.
        const rx = Number(
          /^tsbpf_tcplife_bytes_total\{comm="node",direction="rx",tool="tcplife"\} (\d+)$/m.exec(text)?.[1],
        );
        assert.ok(rx >= 20000 && rx <= 20004, text);
        assert.match(text, /^tsbpf_tcplife_lost_events_total\{tool="tcplife"\} 0$/m);
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const events = tool.json<SessionJson>();
      const client = events.find((e) => e.lport === ports.clientPort && e.rport === ports.serverPort);
      const server = events.find((e) => e.lport === ports.serverPort && e.rport === ports.clientPort);
      assert.ok(client && server, JSON.stringify(events));
      for (const e of [client, server]) {
        assert.equal(e.pid, process.pid);
        assert.equal(e.laddr, "127.0.0.1");
        assert.equal(e.raddr, "127.0.0.1");
        assert.ok(e.tx_bytes >= 10000 && e.tx_bytes <= 10002, String(e.tx_bytes));
        assert.ok(e.rx_bytes >= 10000 && e.rx_bytes <= 10002, String(e.rx_bytes));
        assert.ok(e.ms > 0 && e.ms < 10000);
      }
    },
  );

if (!missing)
  kernelTest("tcplife text columns match BCC's", async () => {
    const tool = new ToolProcess(["tool", "tcplife", "-p", String(process.pid)]);
    try {
      await tool.waitForLine(/^PID +COMM +LADDR +LPORT RADDR +RPORT TX_KB  RX_KB  MS$/);
      const { serverPort } = await loopbackSession(2048);
      await tool.waitForLine(new RegExp(` ${serverPort} +2\\.00 +2\\.00 +\\d+\\.\\d\\d$`));
    } finally {
      assert.equal(await tool.stop(), 0);
    }
    assert.match(
      tool.stdout[1]!,
      /^\d+ +node {13}127\.0\.0\.1 {7}\d+ +127\.0\.0\.1 +\d+ +2\.00 {3}2\.00 {3}\d+\.\d\d$/,
    );
  });
