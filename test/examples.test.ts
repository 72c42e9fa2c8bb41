import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { kernelTest } from "./helpers/kernel-gate.js";
import { repoRoot } from "./helpers/shared.js";

// The README's API snippets come from examples/: run them so they cannot go stale.
test("examples/add42: the guide's program built with the builder returns 142", () => {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist", "examples", "add42.js")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "r0 = *(u32 *)(r1 + 0x0)\nw0 += 0x2a\nexit\nr0 = 142\n");
});

test("examples/load: the same object gives the same verdicts and counters on every backend", () => {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist", "examples", "load.js")], {
    encoding: "utf8",
    cwd: repoRoot,
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "vm: retvals 1, 2; action_count [[1,1],[2,1]]");
  if (process.getuid?.() === 0) assert.equal(lines[1], "kernel: retvals 1, 2; action_count [[1,1],[2,1]]");
});

kernelTest(
  "examples/tcp-connect on a kernel without kprobes: one line naming CONFIG_KPROBES, exit 1, nothing left loaded",
  { lacks: ["kprobe", "kprobe-events"] },
  () => {
    const r = spawnSync(process.execPath, [join(repoRoot, "dist", "examples", "tcp-connect.js")], {
      encoding: "utf8",
      cwd: repoRoot,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^tcp-connect: kprobes not supported: kernel built without kprobes \(CONFIG_KPROBES\): .*\n$/,
    );
  },
);
