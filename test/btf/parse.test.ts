import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { FormatError } from "../../src/errors.js";
import { parseBtf, dumpRaw, sizeof, alignof, resolveTypedefs, skipModifiers } from "../../src/btf/index.js";
import { benchObjects, elfSection, noVmlinux, vmlinux, VMLINUX } from "./fixtures.js";

test("object BTF: types by id and name, resolved references", () => {
  const path = benchObjects().find((p) => p.endsWith("hashmap.bpf.o"))!;
  const btf = parseBtf(elfSection(path, ".BTF"), { file: path });
  assert.equal(btf.firstId, 1);
  const md = btf.typeByName("xdp_md", "struct");
  assert.ok(md);
  assert.equal(md.size, 24);
  assert.deepEqual(
    md.members.map((m) => [m.name, m.bitOffset]),
    [
      ["data", 0],
      ["data_end", 32],
      ["data_meta", 64],
      ["ingress_ifindex", 96],
      ["rx_queue_index", 128],
      ["egress_ifindex", 160],
    ],
  );
  const u32 = md.members[0]!.type;
  assert.equal(u32.kind, "typedef");
  assert.equal(u32.name, "__u32");
  assert.equal(resolveTypedefs(u32).name, "unsigned int");
  assert.equal(sizeof(u32), 4);
  const fn = btf.typeByName("hashmap", "func");
  assert.ok(fn);
  assert.equal(fn.linkage, "global");
  const proto = fn.proto;
  assert.equal(proto.kind, "func_proto");
  assert.equal(proto.kind === "func_proto" && proto.params[0]!.type.kind, "ptr");
  const maps = btf.typeByName(".maps", "datasec");
  assert.ok(maps);
  assert.equal(maps.vars[0]!.type.name, "table");
  assert.equal(btf.typeByName("table", "struct"), undefined);
  assert.equal(btf.typesByName("nonexistent").length, 0);
});

test("raw dump matches bpftool for every bench object", (t) => {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
  } catch {
    t.skip("bpftool not installed");
    return;
  }
  for (const path of benchObjects()) {
    const ours = dumpRaw(parseBtf(elfSection(path, ".BTF"), { file: path }));
    const theirs = execFileSync("bpftool", ["btf", "dump", "file", path, "format", "raw"], {
      encoding: "utf8",
    });
    assert.equal(ours, theirs, path);
  }
});

test("kernel BTF: well-known structs, sizes, alignments, bitfields", { skip: noVmlinux }, () => {
  const btf = parseBtf(vmlinux(), { file: VMLINUX });
  assert.ok(btf.count > 10000);
  const task = btf.typeByName("task_struct", "struct");
  assert.ok(task);
  assert.equal(sizeof(task), task.size);
  assert.equal(alignof(task), 8); // BTF cannot show __aligned(64): natural alignment, as libbpf computes
  const pid = task.members.find((m) => m.name === "pid");
  assert.ok(pid);
  assert.equal(resolveTypedefs(pid.type).name, "int");
  // struct sk_buff has bitfields (kind_flag set)
  const skb = btf.typeByName("sk_buff", "struct")!;
  assert.ok(skb.kindFlag);
  assert.ok(skb.members.some((m) => m.bitfieldSize > 0));
  // every id decodes; names index agrees with decoded names
  for (let id = 1; id < btf.count; id += 97) {
    const t = btf.typeById(id);
    assert.equal(t.id, id);
    if (t.name) assert.ok(btf.idsByName(t.name).includes(id));
  }
  assert.equal(skipModifiers(btf.typeById(0)).kind, "void");
  assert.throws(() => btf.typeById(btf.count), FormatError);
});

test("raw dump of the kernel BTF matches bpftool", { skip: noVmlinux }, (t) => {
  let theirs: string;
  try {
    theirs = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
  } catch {
    t.skip("bpftool not installed");
    return;
  }
  assert.ok(dumpRaw(parseBtf(vmlinux())) === theirs, "raw dump differs from bpftool's");
});

test("name index: exact matches only, non-ASCII names, duplicates in id order", async () => {
  const { encodeBtf } = await import("../../src/btf/index.js");
  const btf = parseBtf(
    encodeBtf([
      { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
      { kind: "typedef", name: "café_t", targetId: 1 },
      {
        kind: "struct",
        name: "café_t",
        size: 4,
        members: [{ name: "ü", typeId: 1, bitOffset: 0, bitfieldSize: 0 }],
      },
      { kind: "typedef", name: "caf", targetId: 1 },
    ]),
  );
  assert.deepEqual(btf.idsByName("café_t"), [2, 3]);
  assert.equal(btf.typeByName("café_t", "struct")?.id, 3);
  assert.equal(btf.typeByName("café_t", "struct")?.members[0]?.name, "ü");
  assert.deepEqual(btf.idsByName("caf"), [4]);
  assert.deepEqual(btf.idsByName("café"), []);
  assert.deepEqual(btf.idsByName(""), []);
  assert.deepEqual(btf.idsByName("a\0b"), []);
});
