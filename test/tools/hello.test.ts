import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, run, ToolProcess } from "./helpers.js";

const missing = cliMissing();
if (missing) test("hello", { skip: missing }, () => {});
else {
  kernelTest(
    "hello --ringbuf says hello for each process the test starts (pid of the caller, its parent)",
    async () => {
      const tool = new ToolProcess(["tool", "hello", "--ringbuf", "--json"]);
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.startsWith("Tracing clone()")));
        for (let i = 0; i < 3; i++) assert.equal(await run("/bin/true", []), 0);
        await tool.waitFor(
          "3 hellos from the test",
          () => tool.json<{ pid: number }>().filter((e) => e.pid === process.pid).length >= 3,
        );
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const mine = tool
        .json<{ pid: number; ppid: number; comm: string; message: string }>()
        .find((e) => e.pid === process.pid)!;
      assert.equal(mine.ppid, process.ppid);
      assert.equal(mine.message, "Hello, eBPF world!");
    },
  );

  kernelTest(
    "hello prints the guide's trace_pipe line (bpf_trace_printk) for the test's clone()",
    async () => {
      const tool = new ToolProcess(["tool", "hello", "--json"]);
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.startsWith("Tracing clone()")));
        // trace_pipe is one shared pipe: another reader may take a line, so clone until one is ours.
        const mine = (): boolean => tool.json<{ pid: number }>().some((e) => e.pid === process.pid);
        for (let i = 0; i < 20 && !mine(); i++) {
          assert.equal(await run("/bin/true", []), 0);
          await new Promise((r) => setTimeout(r, 500));
        }
        await tool.waitFor("a hello from the test", mine);
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const line = tool.json<{ task: string; cpu: number; message: string }>().find((e) => e.task === "node");
      assert.ok(line, tool.stdout.join("\n"));
      assert.equal(line.message, "Hello, eBPF world!");
    },
  );
}
