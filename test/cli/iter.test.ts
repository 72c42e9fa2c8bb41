import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { KernelMap, ensureBpffs } from "../../src/kernel/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";
import { compileBpf, eventually, noTools, programIds, root, tsbpf } from "./load-fixtures.js";

const required = process.env.TSBPF_KERNEL_TESTS === "require";

/** A bpf_map_elem iterator printing "key=value" of a u32 → u64 map (no vmlinux.h needed). */
const mapElemSource = (name: string): string => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct seq_file;
struct bpf_iter_meta { struct seq_file *seq; __u64 session_id; __u64 seq_num; };
struct bpf_iter__bpf_map_elem { struct bpf_iter_meta *meta; void *map; __u32 *key; __u64 *value; };
SEC("iter/bpf_map_elem")
int ${name}(struct bpf_iter__bpf_map_elem *ctx)
{
	__u32 *k = ctx->key;
	__u64 *v = ctx->value;
	if (!k || !v)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%u=%llu\\n", *k, *v);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** A bpf_map iterator printing "id name" per map: CO-RE on a two-field struct bpf_map. */
const mapsSource = (name: string): string => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct seq_file;
struct bpf_iter_meta { struct seq_file *seq; __u64 session_id; __u64 seq_num; } __attribute__((preserve_access_index));
struct bpf_map { __u32 id; char name[16]; } __attribute__((preserve_access_index));
struct bpf_iter__bpf_map { struct bpf_iter_meta *meta; struct bpf_map *map; } __attribute__((preserve_access_index));
SEC("iter/bpf_map")
int ${name}(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	if (!map)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%u %s\\n", map->id, map->name);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

test("iter: an object without iterator programs, and no object", async () => {
  const none = await tsbpf("iter", `${root}bpf/maps/array.bpf.o`);
  assert.equal(none.code, 2);
  assert.match(
    none.err,
    /^tsbpf iter: .*array\.bpf\.o: no iterator program \(SEC\("iter\/…"\)\); programs: array_count \(xdp\)$/m,
  );
  const usage = await tsbpf("iter");
  assert.equal(usage.code, 2);
  assert.match(usage.err, /missing OBJ/);
});

describeKernel("tsbpf iter on the running kernel", () => {
  kernelTest("iter/task prints one line per task, this process included; --json has the lines", async () => {
    const r = await tsbpf("iter", `${root}bpf/progs/iter_task.bpf.o`);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^# pid tgid comm\n/);
    assert.match(r.out, new RegExp(`^${process.pid} ${process.pid} \\S+$`, "m"));
    assert.match(r.out, /^# end of tasks$/m);
    const j = JSON.parse((await tsbpf("iter", `${root}bpf/progs/iter_task.bpf.o`, "--json")).out) as {
      prog: string;
      iter: string;
      bytes: number;
      lines: string[];
    };
    assert.equal(j.prog, "iter_task_list");
    assert.equal(j.iter, "task");
    assert.equal(j.lines[0], "# pid tgid comm");
    assert.equal(j.lines.at(-1), "# end of tasks");
    assert.ok(j.bytes > 100);
  });

  kernelTest("iter/bpf_map_elem walks the map given by --map (pinned path), then unloads", async (t) => {
    if (noTools) {
      if (required) assert.fail(`TSBPF_KERNEL_TESTS=require: ${noTools}`);
      t.skip(noTools);
      return;
    }
    const name = uniqueName("tsbpf_it");
    const obj = compileBpf(name, mapElemSource(name));
    const pin = `${ensureBpffs()}/${name}`;
    const map = KernelMap.create({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 8, name });
    try {
      const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
      const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
      map.update(u32(7), u64(70n));
      map.update(u32(9), u64(90n));
      map.pin(pin);
      const missing = await tsbpf("iter", obj.path);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /iter\/bpf_map_elem walks one map's elements: give --map MAP/);
      const r = await tsbpf("iter", obj.path, "--map", pin);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(r.out.trim().split("\n").sort(), ["7=70", "9=90"]);
      const byId = await tsbpf("iter", obj.path, "--map", String(map.info.id), "--prog", name);
      assert.equal(byId.out, r.out);
      assert.ok(await eventually(() => programIds(name).length === 0), "the iterator program was unloaded");
    } finally {
      map.close();
      rmSync(pin, { force: true });
      obj.remove();
    }
  });

  kernelTest(
    "iter/bpf_map lists every map, one made by this test included (CO-RE on struct bpf_map)",
    async (t) => {
      if (noTools) {
        if (required) assert.fail(`TSBPF_KERNEL_TESTS=require: ${noTools}`);
        t.skip(noTools);
        return;
      }
      const name = uniqueName("tsbpf_im");
      const obj = compileBpf(name, mapsSource(name));
      const map = KernelMap.create({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1, name });
      try {
        const r = await tsbpf("iter", obj.path);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, new RegExp(`^${map.info.id} ${name}$`, "m"));
      } finally {
        map.close();
        obj.remove();
      }
    },
  );
});
