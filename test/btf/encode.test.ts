import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError } from "../../src/errors.js";
import { encodeBtf, parseBtf, dumpRaw, sizeof, type EncodableType } from "../../src/btf/index.js";
import { benchObjects, elfSection, noVmlinux, vmlinux, VMLINUX } from "./fixtures.js";

test("round trip: kernel BTF parsed, encoded and parsed again is the same graph", { skip: noVmlinux }, () => {
  const btf = parseBtf(vmlinux(), { file: VMLINUX });
  const bytes = encodeBtf(btf.types());
  const again = parseBtf(bytes);
  assert.equal(again.count, btf.count);
  assert.ok(dumpRaw(again) === dumpRaw(btf), "raw dumps differ after a round trip");
  // the kernel's string table is already deduplicated: no bigger after re-encoding
  assert.ok(bytes.length <= vmlinux().length);
});

test("round trip of object BTF in both byte orders", () => {
  for (const path of benchObjects()) {
    const btf = parseBtf(elfSection(path, ".BTF"), { file: path });
    for (const littleEndian of [true, false]) {
      const again = parseBtf(encodeBtf(btf.types(), { littleEndian }));
      assert.equal(again.littleEndian, littleEndian);
      assert.equal(dumpRaw(again), dumpRaw(btf), path);
    }
  }
});

test("fixing DATASEC sizes and VAR offsets, as the loader does", () => {
  const path = benchObjects().find((p) => p.endsWith("hashmap.bpf.o"))!;
  const btf = parseBtf(elfSection(path, ".BTF"), { file: path });
  const fixed = [...btf.types()].map((t): EncodableType =>
    t.kind === "datasec" ? { ...t, size: 64, vars: t.vars.map((v) => ({ ...v, offset: v.offset + 8 })) } : t,
  );
  const again = parseBtf(encodeBtf(fixed));
  const maps = again.typeByName(".maps", "datasec")!;
  assert.equal(maps.size, 64);
  assert.equal(maps.vars[0]!.offset, 8);
  assert.equal(maps.vars[0]!.type.name, "table");
});

test("split BTF: ids and strings continue the base's", { skip: noVmlinux }, () => {
  const base = parseBtf(vmlinux(), { file: VMLINUX });
  const task = base.typeByName("task_struct", "struct")!;
  const u64 = base.typeByName("u64", "typedef")!;
  const types: EncodableType[] = [
    { kind: "ptr", targetId: task.id },
    {
      kind: "struct",
      name: "my_module_state",
      size: 24,
      members: [
        { name: "task", typeId: base.count, bitOffset: 0, bitfieldSize: 0 },
        { name: "ts", typeId: u64.id, bitOffset: 64, bitfieldSize: 0 },
        { name: "flags", typeId: u64.id, bitOffset: 128, bitfieldSize: 3 },
      ],
    },
    { kind: "typedef", name: "task_struct", targetId: base.count + 1 }, // a name the base has too
  ];
  const split = parseBtf(encodeBtf(types, { base }), { base, file: "module" });
  assert.equal(split.firstId, base.count);
  assert.equal(split.count, base.count + 3);
  const st = split.typeByName("my_module_state", "struct")!;
  assert.equal(st.id, base.count + 1);
  assert.equal(st.kindFlag, true);
  const ptr = st.members[0]!.type;
  assert.equal(ptr.kind === "ptr" && ptr.target, task);
  assert.equal(st.members[2]!.bitfieldSize, 3);
  assert.equal(sizeof(st.members[1]!.type), 8);
  assert.deepEqual(
    split.typesByName("task_struct").map((t) => t.kind),
    ["struct", "typedef"],
  );
  assert.equal(split.typeById(1), base.typeById(1));
  assert.deepEqual(
    [...split.types()].map((t) => t.id),
    [base.count, base.count + 1, base.count + 2],
  );
  // split BTF without its base: string offsets point into the missing base
  assert.throws(() => parseBtf(encodeBtf(types, { base })), FormatError);
});
