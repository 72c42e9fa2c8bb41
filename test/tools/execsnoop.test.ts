import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, loadedProgramIds, programIdsHeldBy, run, ToolProcess } from "./helpers.js";

/** A shell whose exec of /nonexistent/MARKER fails with ENOENT (the marker only in the path). */
const failedExec = (marker: string): Promise<number | null> =>
  run("/bin/sh", ["-c", 'exec "/nonexistent/$M" 2>/dev/null'], { env: { ...process.env, M: marker } });

interface ExecJson {
  pcomm: string;
  pid: number;
  ppid: number;
  ret: number;
  args: string[];
}

const missing = cliMissing();
if (missing) test("execsnoop", { skip: missing }, () => {});
else
  kernelTest(
    "execsnoop sees 20 runs of /bin/true with the right PPID, then leaves nothing loaded",
    async () => {
      const marker = `tsbpf-exec-${process.pid}`;
      const tool = new ToolProcess(["tool", "execsnoop", "--json", "-l", marker]);
      let ours: number[] = [];
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
        ours = await programIdsHeldBy(tool.child.pid!);
        assert.ok(ours.length > 0, "execsnoop holds its programs");
        for (let i = 0; i < 20; i++) assert.equal(await run("/bin/true", [marker, String(i)]), 0);
        // a failed exec is hidden unless -x
        await failedExec(marker);
        await tool.waitFor("20 events", () => tool.json().length >= 20);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const events = tool.json<ExecJson>();
      assert.equal(events.length, 20, JSON.stringify(events));
      assert.deepEqual(
        events.map((e) => e.args[2]).sort((a, b) => Number(a) - Number(b)),
        Array.from({ length: 20 }, (_, i) => String(i)),
      );
      for (const e of events) {
        assert.equal(e.pcomm, "true");
        assert.equal(e.ppid, process.pid);
        assert.equal(e.ret, 0);
        assert.deepEqual(e.args.slice(0, 2), ["/bin/true", marker]);
      }
      // Its programs, and only its (other tests may load tools at the same time), are gone; the
      // kernel frees them a moment after the tool exits (RCU): poll briefly.
      let left = ours;
      for (let deadline = Date.now() + 5_000; left.length > 0 && Date.now() < deadline;) {
        const loaded = new Set(await loadedProgramIds());
        left = ours.filter((id) => loaded.has(id));
        if (left.length) await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(left, [], "programs left loaded");
    },
  );

if (!missing)
  kernelTest("execsnoop -x shows failed exec()s with their errno, -T -U columns", async () => {
    const marker = `tsbpf-xfail-${process.pid}`;
    const tool = new ToolProcess(["tool", "execsnoop", "-x", "-T", "-U", "-q", "-l", marker]);
    try {
      await tool.waitForLine(/^TIME +UID +PCOMM +PID +PPID +RET ARGS$/);
      await failedExec(marker);
      await tool.waitForLine(new RegExp(`-2 "/nonexistent/${marker}"$`));
    } finally {
      assert.equal(await tool.stop("SIGTERM"), 0);
    }
    const line = tool.stdout.find((l) => l.includes(marker))!;
    assert.match(line, /^\d\d:\d\d:\d\d 0 +sh +\d+ +\d+ +-2 "/);
  });
