import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, run, ToolProcess } from "./helpers.js";

interface ExitJson {
  pcomm: string;
  pid: number;
  ppid: number;
  tid: number;
  age_s: number;
  signal: number;
  exit_code: number;
}

const missing = cliMissing();
if (missing) test("exitsnoop", { skip: missing }, () => {});
else
  kernelTest("exitsnoop reports an exit code, a kill signal, the parent and the age", async () => {
    const tool = new ToolProcess(["tool", "exitsnoop", "--json"]);
    let killedPid = 0;
    try {
      await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
      assert.equal(await run("/bin/sh", ["-c", "exit 3"]), 3);
      const sleeper = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
      killedPid = sleeper.pid!;
      await new Promise((r) => setTimeout(r, 300));
      sleeper.kill("SIGKILL");
      await tool.waitFor("sleep's exit", () => tool.json<ExitJson>().some((e) => e.pid === killedPid));
    } finally {
      assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
    }
    const mine = tool.json<ExitJson>().filter((e) => e.ppid === process.pid);
    const sh = mine.find((e) => e.pcomm === "sh" && e.exit_code === 3);
    assert.ok(sh, JSON.stringify(mine));
    assert.equal(sh.signal, 0);
    assert.equal(sh.tid, sh.pid);
    const sleeper = mine.find((e) => e.pid === killedPid)!;
    assert.equal(sleeper.pcomm, "sleep");
    assert.equal(sleeper.signal, 9);
    assert.ok(sleeper.age_s >= 0.2 && sleeper.age_s < 30, String(sleeper.age_s));
  });
