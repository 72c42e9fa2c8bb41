import assert from "node:assert/strict";
import { closeSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { joinPath, rate } from "../../src/tools/iofsstat.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { startTool, tempDir } from "./profiling-helpers.js";

test("paths from dentry names and iotop-style rates", () => {
  assert.equal(joinPath(["f.txt", "tmp", "/", "", "", "", "", ""], 3), "/tmp/f.txt");
  assert.equal(joinPath(["h", "g", "f", "e", "d", "c", "b", "a"], 8), "…/a/b/c/d/e/f/g/h");
  assert.equal(rate(512, 1), "512B/s");
  assert.equal(rate(20480, 2), "10.0K/s");
  assert.equal(rate(3 * 1024 * 1024, 1), "3.0M/s");
});

kernelTest(
  "iofsstat counts this process's reads and writes of a file the test creates, by path and inode",
  async (t) => {
    const tmp = tempDir("iofsstat");
    t.after(tmp.remove);
    const tool = startTool("iofsstat", ["-p", String(process.pid), "--json", "2", "1"]);
    await new Promise((r) => setTimeout(r, 1200)); // attached (no banner with --json)
    const path = join(tmp.dir, "iofsstat-probe.dat");
    const fd = openSync(path, "w+");
    const block = new Uint8Array(4096).fill(7);
    for (let i = 0; i < 10; i++) writeSync(fd, block, 0, block.length, i * 4096);
    for (let i = 0; i < 5; i++) readSync(fd, block, 0, block.length, i * 4096);
    closeSync(fd);
    const r = await tool.done;
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    const row = rows.find((x) => x.filepath === path);
    assert.ok(row, `no ${path} in ${r.stdout}`);
    assert.equal(row.pid, process.pid);
    assert.equal(row.cnt_wr, 10);
    assert.equal(row.cnt_rd, 5);
    assert.equal(row.inode, statSync(path).ino);
    assert.ok(Math.abs(Number(row.bw_wr) * 2 - 40960) < 1, `bw_wr ${row.bw_wr} over 2 s`);
    assert.ok(Math.abs(Number(row.bw_rd) * 2 - 20480) < 1, `bw_rd ${row.bw_rd} over 2 s`);
    assert.ok(
      rows.some((x) => typeof x.disk === "string" && "r_iops" in x),
      "per-disk lines",
    );
    for (const x of rows) if ("pid" in x) assert.equal(x.pid, process.pid, "-p filters");
  },
);
