import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { featureStatus, type Feature } from "../helpers/requires.js";
import { cliMissing, run, ToolProcess } from "./helpers.js";

// The guide hooks clone() with a kprobe; kernels without kprobes get the syscall tracepoints.
const HOOKS: readonly { hook: "kprobe" | "tracepoint"; requires: Feature[] }[] = [
  { hook: "kprobe", requires: ["kprobe"] },
  { hook: "tracepoint", requires: [] },
];

const ready = (tool: ToolProcess, hook: string): Promise<void> =>
  tool.waitFor("ready", () => tool.stderr.some((l) => l.startsWith(`Tracing clone() (${hook}, `)));

const missing = cliMissing();
if (missing) test("hello", { skip: missing }, () => {});
else {
  for (const { hook, requires } of HOOKS) {
    kernelTest(
      `hello --hook ${hook} --ringbuf says hello for each process the test starts (pid of the caller, its parent)`,
      { requires },
      async () => {
        const tool = new ToolProcess(["tool", "hello", "--ringbuf", "--json", "--hook", hook]);
        try {
          await ready(tool, hook);
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
      `hello --hook ${hook} prints the guide's trace_pipe line (bpf_trace_printk) for the test's clone()`,
      { requires },
      async () => {
        const tool = new ToolProcess(["tool", "hello", "--json", "--hook", hook]);
        try {
          await ready(tool, hook);
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
        const line = tool
          .json<{ task: string; cpu: number; message: string }>()
          .find((e) => e.task === "node");
        assert.ok(line, tool.stdout.join("\n"));
        assert.equal(line.message, "Hello, eBPF world!");
      },
    );
  }

  kernelTest(
    "hello picks the guide's kprobe where the kernel has kprobes (auto), else the tracepoints",
    async () => {
      const tool = new ToolProcess(["tool", "hello", "--ringbuf", "--json"]);
      const hook = featureStatus("kprobe").present ? "kprobe" : "tracepoint";
      try {
        await ready(tool, hook);
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      if (hook === "tracepoint")
        assert.ok(
          tool.stderr.some((l) => l.includes("using tracepoints syscalls:sys_enter_clone/clone3 instead")),
          tool.stderr.join("\n"),
        );
    },
  );
}
