import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HELPER_MAX_ID, HELPERS, helperById, helperByName, helperPrototype } from "../../src/isa/helpers.js";

// The repository root, whether this runs from test/isa (tsx) or dist/test/isa (compiled).
const repo = ["../..", "../../.."]
  .map((up) => new URL(up, import.meta.url).pathname)
  .find((dir) => existsSync(join(dir, "scripts/gen-helpers.mjs")))!;

test("ids are dense from 1 and names unique", () => {
  HELPERS.forEach((h, i) => assert.equal(h.id, i + 1));
  assert.equal(new Set(HELPERS.map((h) => h.name)).size, HELPERS.length);
  assert.equal(HELPER_MAX_ID, HELPERS.length + 1);
  assert.ok(HELPERS.length >= 211, "every helper up to bpf_cgrp_storage_delete (Linux 6.2)");
});

test("lookups by id and by name with or without the bpf_ prefix", () => {
  const h = helperById(1);
  assert.equal(h?.name, "bpf_map_lookup_elem");
  assert.equal(h?.returns, "void *");
  assert.deepEqual(h?.args, [
    { type: "struct bpf_map *", name: "map" },
    { type: "const void *", name: "key" },
  ]);
  assert.equal(helperByName("bpf_map_lookup_elem"), h);
  assert.equal(helperByName("map_lookup_elem"), h);
  assert.equal(helperById(0), undefined);
  assert.equal(helperById(HELPER_MAX_ID), undefined);
  assert.equal(helperById(-1), undefined);
  assert.equal(helperById(1.5), undefined);
  assert.equal(helperByName("bpf_no_such_helper"), undefined);
  assert.equal(helperByName("bpf_ktime_get_ns")?.id, 5);
  assert.equal(helperByName("tail_call")?.id, 12);
  assert.equal(helperByName("ringbuf_output")?.id, 130);
  assert.equal(helperByName("loop")?.id, 181);
  assert.equal(helperByName("cgrp_storage_delete")?.id, 211);
});

test("prototypes read back as the kernel documents them", () => {
  assert.equal(
    helperPrototype(helperByName("map_update_elem")!),
    "long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)",
  );
  assert.equal(helperPrototype(helperByName("ktime_get_ns")!), "u64 bpf_ktime_get_ns(void)");
  assert.equal(
    helperPrototype(helperByName("trace_printk")!),
    "long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)",
  );
  assert.equal(
    helperPrototype(helperByName("cgrp_storage_get")!),
    "void *bpf_cgrp_storage_get(struct bpf_map *map, struct cgroup *cgroup, void *value, u64 flags)",
  );
  for (const h of HELPERS) assert.ok(h.args.length <= 5, `${h.name}: at most five arguments`);
});

test("every documented prototype of the UAPI header is in the table", (t) => {
  const header = "/usr/include/linux/bpf.h";
  if (!existsSync(header)) return t.skip(`${header} not installed`);
  const lines = readFileSync(header, "utf8").split("\n");
  let checked = 0;
  const seen = new Set<string>();
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = /^ \* (\S.*\b(bpf_\w+)\(.*\))\s*$/.exec(lines[i]!);
    if (!m || !/Description/.test(lines[i + 1]!) || seen.has(m[2]!)) continue;
    seen.add(m[2]!); // later prototypes of the same helper are per-context variants
    const h = helperByName(m[2]!);
    assert.ok(h, m[2]);
    assert.equal(helperPrototype(h).replace(/\s+/g, " "), m[1]!.replace(/\s+/g, " "));
    checked++;
  }
  assert.ok(checked > 200, `${checked} prototypes checked`);
});

test("ids agree with the running kernel's enum bpf_func_id", (t) => {
  const btf = "/sys/kernel/btf/vmlinux";
  if (!existsSync(btf)) return t.skip(`${btf} missing`);
  let dump: string;
  try {
    dump = execFileSync("bpftool", ["btf", "dump", "file", btf, "format", "c"], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
  } catch {
    return t.skip("bpftool not available");
  }
  const ids = [...dump.matchAll(/\bBPF_FUNC_(\w+) = (\d+),/g)];
  assert.ok(ids.length > 200);
  for (const [, name, id] of ids) {
    if (name === "unspec") continue;
    const h = helperById(Number(id));
    if (!h) continue; // helper newer than our table
    assert.equal(h.name, `bpf_${name}`);
  }
});

test("the committed table is what the generator produces", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-helpers-"));
  try {
    const out = join(dir, "helpers.ts");
    execFileSync(process.execPath, [join(repo, "scripts/gen-helpers.mjs"), "--out", out], {
      cwd: repo,
      stdio: "ignore",
    });
    assert.equal(readFileSync(out, "utf8"), readFileSync(join(repo, "src/isa/helpers.ts"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
