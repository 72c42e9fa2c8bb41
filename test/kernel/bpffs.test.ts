import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BPFFS_MAGIC,
  KernelMap,
  TRACEFS_MAGIC,
  ensureBpffs,
  ensureTracefs,
  fsMagic,
  isBpffs,
} from "../../src/kernel/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

describeKernel("bpffs and tracefs mounts", () => {
  kernelTest("ensureBpffs mounts a bpffs where there is none, and pins work in it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-bpffs-"));
    let mounted = false;
    try {
      assert.notEqual(fsMagic(dir), BPFFS_MAGIC);
      assert.equal(ensureBpffs(dir), dir);
      mounted = true;
      assert.ok(isBpffs(dir));
      assert.equal(ensureBpffs(dir), dir, "a second call finds the mount");
      const m = KernelMap.create({
        type: "array",
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
        name: uniqueName("tsbpf_fs"),
      });
      try {
        m.pin(join(dir, "m"));
        KernelMap.fromPin(join(dir, "m")).close();
      } finally {
        m.close();
      }
    } finally {
      if (mounted) execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest("pinning outside bpffs fails with a message saying where pins go", () => {
    const m = KernelMap.create({
      type: "array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: uniqueName("tsbpf_fs"),
    });
    try {
      assert.throws(() => m.pin(join(tmpdir(), uniqueName("nopin"))), /must be inside a bpffs mount/);
    } finally {
      m.close();
    }
  });

  kernelTest("ensureTracefs finds or mounts tracefs at /sys/kernel/tracing", () => {
    assert.equal(ensureTracefs(), "/sys/kernel/tracing");
    assert.equal(fsMagic("/sys/kernel/tracing"), TRACEFS_MAGIC);
  });

  kernelTest("fsMagic of a missing path is undefined", () => {
    assert.equal(fsMagic(join(tmpdir(), uniqueName("missing"))), undefined);
  });
});
