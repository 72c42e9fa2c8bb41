import assert from "node:assert/strict";
import { closeSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { cliMissing, ToolProcess } from "./helpers.js";

interface OpenJson {
  pid: number;
  comm: string;
  fd: number;
  err: number;
  path: string;
}

const missing = cliMissing();
if (missing) test("opensnoop", { skip: missing }, () => {});
else
  kernelTest("opensnoop sees a file the test opens with its FD, and a missing one with ENOENT", async () => {
    const file = join(tmpdir(), `tsbpf-opensnoop-${process.pid}-${Date.now()}`);
    writeFileSync(file, "x");
    const tool = new ToolProcess(["tool", "opensnoop", "--json", "-p", String(process.pid)]);
    let fd = -1;
    try {
      await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
      fd = openSync(file, "r");
      assert.throws(() => openSync(`${file}.missing`, "r"), /ENOENT/);
      await tool.waitFor(
        "both opens",
        () => tool.json<OpenJson>().filter((e) => e.path.startsWith(file)).length >= 2,
      );
    } finally {
      if (fd >= 0) closeSync(fd);
      rmSync(file, { force: true });
      assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
    }
    const events = tool.json<OpenJson>();
    assert.ok(
      events.every((e) => e.pid === process.pid),
      "only the test's opens (-p)",
    );
    const ok = events.find((e) => e.path === file)!;
    assert.equal(ok.fd, fd);
    assert.equal(ok.err, 0);
    const bad = events.find((e) => e.path === `${file}.missing`)!;
    assert.equal(bad.fd, -1);
    assert.equal(bad.err, 2);
  });

if (!missing)
  kernelTest("opensnoop -x prints failed opens only, in libbpf-tools' columns", async () => {
    const file = join(tmpdir(), `tsbpf-opensnoop-x-${process.pid}`);
    const tool = new ToolProcess(["tool", "opensnoop", "-x", "-p", String(process.pid)]);
    try {
      await tool.waitForLine(/^PID +COMM +FD ERR PATH$/);
      closeSync(openSync("/dev/null", "r"));
      assert.throws(() => openSync(file, "r"));
      await tool.waitForLine(new RegExp(`${file}$`));
    } finally {
      assert.equal(await tool.stop(), 0);
    }
    assert.ok(!tool.stdout.some((l) => l.endsWith("/dev/null")), "successful open printed with -x");
    assert.match(
      tool.stdout.find((l) => l.endsWith(file))!,
      new RegExp(`^${process.pid} +\\S+ +-1   2 ${file}$`),
    );
  });
