import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, ToolProcess } from "./helpers.js";
import { loopbackSession } from "./tcp-workload.js";

interface StateJson {
  lport: number;
  rport: number;
  oldstate: string;
  newstate: string;
  ms: number;
}

const missing = cliMissing();
if (missing) test("tcpstates", { skip: missing }, () => {});
else
  kernelTest("tcpstates follows both ends of a loopback connection through every state", async () => {
    const tool = new ToolProcess(["tool", "tcpstates", "--json", "-4"]);
    let ports: { serverPort: number; clientPort: number };
    try {
      await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
      ports = await loopbackSession(100);
      await tool.waitFor(
        "both closes",
        () =>
          tool
            .json<StateJson>()
            .filter((e) => e.newstate === "CLOSE" && [e.lport, e.rport].includes(ports.clientPort)).length >=
          2,
      );
    } finally {
      assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
    }
    const path = (lport: number): string[] =>
      tool
        .json<StateJson>()
        .filter((e) => e.lport === lport && e.rport !== 0)
        .map((e) => `${e.oldstate}->${e.newstate}`);
    assert.deepEqual(path(ports.clientPort), [
      "SYN_SENT->ESTABLISHED",
      "ESTABLISHED->FIN_WAIT1",
      "FIN_WAIT1->FIN_WAIT2",
      "FIN_WAIT2->CLOSE",
    ]);
    assert.deepEqual(
      path(ports.serverPort).filter((s) => !s.startsWith("LISTEN->CLOSE")),
      [
        "LISTEN->SYN_RECV",
        "SYN_RECV->ESTABLISHED",
        "ESTABLISHED->CLOSE_WAIT",
        "CLOSE_WAIT->LAST_ACK",
        "LAST_ACK->CLOSE",
      ],
    );
  });
