/**
 * The introduction's TCP connection tracer as the talk builds it (kprobe + kretprobe on
 * tcp_v4_connect, a hash map keyed by pid, a perf buffer; bpf/scenarios/tcp_connect_kprobe.bpf.c)
 * with its TypeScript front end, examples/tcp-connect.ts, run as a user would run it, on kernels
 * with kprobes (the QEMU kernel matrix). The test makes the connections itself: one on the
 * loopback from this process, one from a "container" (new PID and UTS namespaces).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { kernelTest } from "../../helpers/kernel-gate.js";
import { programIdsHeldBy, repoRoot, run, ToolProcess } from "../../tools/helpers.js";
import { loopbackSession } from "../../tools/tcp-workload.js";

const example = join(repoRoot(), "dist", "examples", "tcp-connect.js");
const start = (...args: string[]): ToolProcess => new ToolProcess(args, [process.execPath, [example]]);
const HEADER = /^PID\s+COMMAND\s+SOURCE-IPADDR\s+DESTINATION-IPADDR\s+DPORT/;

/** The example's rows as fields: pid, comm, saddr, daddr, dport[, nodename]. */
const rows = (tool: ToolProcess): string[][] =>
  tool.stdout.filter((l) => l.trim() && !HEADER.test(l)).map((l) => l.trim().split(/\s+/));

if (!existsSync(example)) test("examples/tcp-connect", { skip: "dist/ not built (npm run build)" }, () => {});
else {
  kernelTest(
    "the talk's tracer (examples/tcp-connect) prints this process's loopback connect: pid, comm, addresses, port",
    { requires: ["kprobe"] },
    async () => {
      const tool = start();
      let port = 0;
      try {
        await tool.waitForLine(HEADER, 30_000);
        assert.ok((await programIdsHeldBy(tool.child.pid!)).length === 2, "both probes' programs are loaded");
        port = (await loopbackSession(10)).serverPort;
        await tool.waitFor("the connect", () => rows(tool).some((r) => r[4] === String(port)));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      assert.deepEqual(
        rows(tool).find((r) => r[4] === String(port)),
        [String(process.pid), "node", "127.0.0.1", "127.0.0.1", String(port)],
      );
      assert.deepEqual(tool.stderr, [], "no lost events, no errors");
    },
  );

  kernelTest(
    "the talk's container extension (--containers-only): only the connect from a new PID+UTS namespace, with its nodename",
    { requires: ["kprobe"] },
    async () => {
      const nodename = `ctr-${process.pid}`;
      const tool = start("--containers-only");
      try {
        await tool.waitForLine(HEADER, 30_000);
        await loopbackSession(10); // from the root PID namespace: must not be shown
        const script = `hostname ${nodename} && exec ${process.execPath} -e "require('net').connect(9,'127.0.0.1').on('error',()=>{})"`;
        assert.equal(
          await run("unshare", ["--pid", "--uts", "--fork", "--mount-proc", "sh", "-c", script]),
          0,
        );
        await tool.waitFor("the container's connect", () => rows(tool).some((r) => r[4] === "9"));
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const [row, ...others] = rows(tool);
      assert.deepEqual(others, [], "only the container's connection");
      assert.deepEqual(row!.slice(1), ["node", "127.0.0.1", "127.0.0.1", "9", nodename]);
      assert.notEqual(row![0], "1", "the host's view of the PID, not the namespace's");
    },
  );
}
