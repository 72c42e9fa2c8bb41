import { test } from "node:test";
import assert from "node:assert/strict";
import { Memory } from "../../../src/vm/memory.js";
import { PinNamespace, PinError, type VmMapSpec } from "../../../src/vm/maps/index.js";
import { MapType, u32, u64 } from "./util.js";

const spec = (over: Partial<VmMapSpec> = {}): VmMapSpec => ({
  name: "shared",
  type: MapType.HASH,
  keySize: 4,
  valueSize: 8,
  maxEntries: 16,
  pinning: { kind: "by-name", path: "/sys/fs/bpf/shared" },
  ...over,
});

test("pinning by name reuses a compatible map and refuses an incompatible one", () => {
  const memory = new Memory();
  const ns = new PinNamespace();
  const a = ns.open(spec(), memory, { cpus: 1 });
  a.update(u32(1), u64(42));
  const b = ns.open(spec({ name: "other_obj_map" }), memory, { cpus: 1 });
  assert.equal(b, a);
  assert.deepEqual(b.lookup(u32(1)), u64(42));
  assert.throws(
    () => ns.open(spec({ valueSize: 4 }), memory, { cpus: 1 }),
    (e: unknown) => e instanceof PinError && /value size 8 != 4/.test(e.message),
  );
  const unpinned = ns.open(spec({ pinning: { kind: "none" } }), memory, { cpus: 1 });
  assert.notEqual(unpinned, a);
  assert.equal(ns.get("/sys/fs/bpf/shared"), a);
  assert.throws(() => ns.pin("/sys/fs/bpf/shared", unpinned), PinError);
  assert.equal(ns.unpin("/sys/fs/bpf/shared"), true);
  assert.notEqual(ns.open(spec(), memory, { cpus: 1 }), a);
});
