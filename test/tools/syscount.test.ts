import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, ToolProcess } from "./helpers.js";

interface Summary {
  time: string;
  syscalls?: { syscall: string; count: number; time_us?: number }[];
  processes?: { pid: number; comm: string; count: number }[];
}

const missing = cliMissing();
if (missing) test("syscount", { skip: missing }, () => {});
else
  kernelTest(
    "syscount counts the test's 300 failing stat() calls (-p, -x -e ENOENT, -L), summary on Ctrl-C",
    async () => {
      const tool = new ToolProcess([
        "tool",
        "syscount",
        "--json",
        "-L",
        "-x",
        "-e",
        "ENOENT",
        "-p",
        String(process.pid),
      ]);
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing syscalls")));
        await new Promise((r) => setTimeout(r, 500)); // attached after the message: give it a moment
        for (let i = 0; i < 300; i++) assert.throws(() => statSync(`/nonexistent/tsbpf-syscount-${i}`));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const [summary] = tool.json<Summary>();
      assert.ok(summary?.syscalls, tool.stdout.join("\n"));
      const statx = summary.syscalls.find(
        (s) => s.syscall === "statx" || s.syscall === "newfstatat" || s.syscall === "stat",
      );
      assert.ok(statx, JSON.stringify(summary));
      assert.ok(statx.count >= 300 && statx.count < 320, `count ${statx.count}`);
      assert.ok((statx.time_us ?? 0) > 0);
    },
  );

if (!missing)
  kernelTest(
    "syscount -P -i 1 prints per-interval summaries by process in libbpf-tools' columns",
    async () => {
      const tool = new ToolProcess(["tool", "syscount", "-P", "-i", "1", "-d", "2", "-T", "5"]);
      assert.equal(await tool.exited, 0, tool.stderr.join("\n"));
      const stamps = tool.stdout.filter((l) => /^\[\d\d:\d\d:\d\d\]$/.test(l));
      assert.equal(stamps.length, 2, tool.stdout.join("\n"));
      const header = tool.stdout.indexOf("PID    COMM               COUNT");
      assert.ok(header > 0, tool.stdout.join("\n"));
      assert.match(tool.stdout[header + 1]!, /^\d+ +\S.* +\d+$/);
    },
  );
