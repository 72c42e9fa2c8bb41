import assert from "node:assert/strict";
import { test } from "node:test";
import { parseHex } from "../../src/cli/commands/map.js";
import { main } from "../../src/cli/main.js";
import { KernelMap, KernelProgram, ensureBpffs, possibleCpus, unpin } from "../../src/kernel/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

async function tsbpf(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (t) => (out += t + "\n"),
    err: (t) => (err += t + "\n"),
    readStdin: async () => "",
  });
  return { code, out, err };
}

test("hex arguments: packed, spaced and 0x-prefixed bytes; bad hex is a usage error", () => {
  assert.deepEqual(parseHex("01000000", "key"), new Uint8Array([1, 0, 0, 0]));
  assert.deepEqual(parseHex("01 0a ff", "key"), new Uint8Array([1, 10, 255]));
  assert.deepEqual(parseHex("0x1 0x00 0xff", "key"), new Uint8Array([1, 0, 255]));
  assert.throws(() => parseHex("abc", "key"), /key 'abc' is not hex bytes/);
});

test("bad usage exits 2 with the usage line", async () => {
  const r = await tsbpf("map", "frob");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown subcommand 'frob'/);
  assert.match(r.err, /usage: tsbpf map/);
});

describeKernel("tsbpf prog / map on the running kernel", () => {
  kernelTest("map list/show/dump/lookup/update/delete by id, name and pinned path", async () => {
    const name = uniqueName("tsbpf_cli");
    const path = `${ensureBpffs()}/${name}`;
    const m = KernelMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 8, name });
    try {
      m.pin(path);
      const id = String(m.info.id);
      const list = await tsbpf("map", "list");
      assert.equal(list.code, 0);
      assert.match(
        list.out,
        new RegExp(`^${id}: hash  name ${name}  flags 0x0\\n\\tkey 4B  value 4B  max_entries 8`, "m"),
      );
      const shown = JSON.parse((await tsbpf("map", "show", name, "--json")).out);
      assert.equal(shown.id, m.info.id);
      assert.equal(shown.bytes_value, 4);

      assert.equal((await tsbpf("map", "update", id, "01000000", "2a 00 00 00")).code, 0);
      assert.equal((await tsbpf("map", "update", path, "02000000", "0x07 0 0 0", "--noexist")).code, 0);
      const dup = await tsbpf("map", "update", name, "02000000", "07000000", "--noexist");
      assert.equal(dup.code, 1);
      assert.match(dup.err, /EEXIST/);

      const dump = JSON.parse((await tsbpf("map", "dump", path, "--json")).out) as {
        key: string;
        value: string;
      }[];
      assert.deepEqual(
        dump.sort((a, b) => a.key.localeCompare(b.key)),
        [
          { key: "01000000", value: "2a000000" },
          { key: "02000000", value: "07000000" },
        ],
      );
      const text = await tsbpf("map", "dump", "id", id);
      assert.match(text.out, /key: 01 00 00 00  value: 2a 00 00 00/);
      assert.match(text.out, /Found 2 elements/);

      assert.match((await tsbpf("map", "lookup", name, "02000000")).out, /value: 07 00 00 00/);
      assert.equal((await tsbpf("map", "delete", name, "02000000")).code, 0);
      const missing = await tsbpf("map", "lookup", name, "02000000");
      assert.equal(missing.code, 1);
      assert.match(missing.err, /key 02000000 not found/);
      const short = await tsbpf("map", "lookup", name, "0200");
      assert.equal(short.code, 2);
      assert.match(short.err, /key must be 4 bytes, got 2/);
    } finally {
      unpin(path);
      m.close();
    }
  });

  kernelTest("map dump --json gives per-CPU values as one hex string per CPU", async () => {
    const name = uniqueName("tsbpf_pcpu");
    const m = KernelMap.create({ type: "percpu_array", keySize: 4, valueSize: 4, maxEntries: 1, name });
    try {
      assert.equal((await tsbpf("map", "update", String(m.info.id), "00000000", "05000000")).code, 0);
      const dump = JSON.parse((await tsbpf("map", "dump", String(m.info.id), "--json")).out);
      assert.deepEqual(dump, [{ key: "00000000", value: Array(possibleCpus()).fill("05000000") }]);
    } finally {
      m.close();
    }
  });

  kernelTest("prog list and show find our program with bpftool's fields", async () => {
    const name = uniqueName("tsbpf_cli");
    const insns = new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    const p = KernelProgram.load({ type: "xdp", insns, license: "GPL", name });
    try {
      const list = await tsbpf("prog", "list");
      assert.equal(list.code, 0);
      assert.match(
        list.out,
        new RegExp(`^${p.id}: xdp  name ${name}  tag ${p.tag}  gpl\\n\\tloaded_at \\d{4}-`, "m"),
      );
      const shown = JSON.parse((await tsbpf("prog", "show", "name", name, "--json")).out);
      assert.equal(shown.id, p.id);
      assert.equal(shown.type, "xdp");
      assert.equal(shown.bytes_xlated, 16);
      assert.ok(Math.abs(shown.loaded_at - Date.now() / 1000) < 120, "loaded_at is a wall-clock time");
      assert.deepEqual(shown.map_ids, []);
      const gone = await tsbpf("prog", "show", "id", "4000000000");
      assert.equal(gone.code, 1);
      assert.match(gone.err, /BPF_PROG_GET_FD_BY_ID failed: ENOENT/);
    } finally {
      p.close();
    }
  });
});
