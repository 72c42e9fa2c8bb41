import assert from "node:assert/strict";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { test } from "node:test";
import { taskStateChar } from "../../src/tools/ps.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { runTool, startTool } from "./profiling-helpers.js";

interface Row {
  pid: number;
  ppid: number;
  comm: string;
}

/** Processes /proc lists now, with the ppid and comm it gives; protected ones flagged. */
function procProcesses(): Map<number, Row & { protectedNs: boolean }> {
  const out = new Map<number, Row & { protectedNs: boolean }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      let protectedNs = false;
      try {
        readlinkSync(`/proc/${name}/ns/pid`);
      } catch (e) {
        protectedNs = (e as NodeJS.ErrnoException).code === "EACCES";
      }
      out.set(Number(name), { pid: Number(name), ppid, comm, protectedNs });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

test("task states are the kernel's task_state_index letters", () => {
  assert.equal(taskStateChar(0, 0), "R");
  assert.equal(taskStateChar(1, 0), "S");
  assert.equal(taskStateChar(2, 0), "D");
  assert.equal(taskStateChar(0x402, 0), "I");
  assert.equal(taskStateChar(0, 0x20), "Z");
  assert.equal(taskStateChar(4, 0), "T");
});

for (const method of ["iter", "open-coded", "loop"] as const) {
  kernelTest(`ps -m ${method} lists this process and agrees with /proc`, async () => {
    const before = procProcesses();
    const tool = startTool("ps", ["-m", method, "--json"]);
    const r = await tool.done;
    const after = procProcesses();
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    const byPid = new Map(rows.map((x) => [x.pid, x]));
    const me = byPid.get(process.pid);
    assert.ok(me, `own pid ${process.pid} missing`);
    assert.equal(me.ppid, process.ppid);
    assert.equal(me.comm, readFileSync("/proc/self/comm", "utf8").trim());
    let compared = 0;
    for (const [pid, p] of before) {
      const still = after.get(pid);
      if (!still || still.comm !== p.comm || still.ppid !== p.ppid) continue; // changed meanwhile
      // The sandbox's own init (pid 1 here) hides its namespaces from root: task iterators do not list it.
      if (p.protectedNs && method !== "loop") continue;
      const seen = byPid.get(pid);
      assert.ok(seen, `${method}: pid ${pid} (${p.comm}) is in /proc but not listed`);
      assert.equal(seen.ppid, p.ppid, `ppid of ${pid}`);
      // /proc adds the workqueue to kworker names ("kworker/0:0H-events_highpri"): task->comm is the start.
      assert.ok(
        p.comm.startsWith(seen.comm) && seen.comm.length > 0,
        `comm of ${pid}: ${seen.comm} vs ${p.comm}`,
      );
      compared++;
    }
    assert.ok(compared > 10, `only ${compared} processes compared`);
    // The tool sees itself: a child of this process.
    const self = byPid.get(tool.child.pid!);
    assert.ok(
      self && self.ppid === process.pid,
      `the tool itself (${tool.child.pid}) is not listed as our child`,
    );
    if (method === "loop") assert.match(r.stderr, /bpf_kallsyms_lookup_name\("init_task"\) = -2 \(ENOENT|^$/);
  });
}

kernelTest("ps -T lists threads (TID column) and the text table has ps's columns", async () => {
  const r = await runTool("ps", ["-T", "-p", String(process.pid)]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^\s+PID\s+TID\s+PPID\s+UID S\s+THR\s+VSZ\s+START COMM$/);
  const threads = readdirSync(`/proc/${process.pid}/task`).length;
  assert.ok(lines.length - 1 >= Math.min(threads, 2), r.stdout);
  for (const l of lines.slice(1)) assert.match(l, new RegExp(`^\\s+${process.pid}\\s+\\d+`));
});
