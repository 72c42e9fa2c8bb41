import { test } from "node:test";
import assert from "node:assert/strict";
import { Memory, MemoryAccessError } from "../../src/vm/index.js";

const accessError = (kind: string, re?: RegExp) => (e: unknown) =>
  e instanceof MemoryAccessError && e.kind === kind && (re === undefined || re.test(e.message));

test("regions are addressed as (id << 32) | offset, ids from 1", () => {
  const m = new Memory();
  const a = m.addRegion({ kind: "context", name: "ctx", length: 16 });
  const b = m.addRegion({ kind: "packet", name: "pkt", bytes: Uint8Array.of(1, 2, 3) });
  assert.equal(a.base, 0x100000000n);
  assert.equal(b.base, 0x200000000n);
  assert.equal(b.address(2), 0x200000002n);
  assert.equal(a.length, 16);
  assert.equal(m.regionAt(0x10000000fn), a);
  assert.equal(m.regionAt(0x200000001n), b);
  assert.equal(m.regionAt(5n), undefined);
  assert.equal(String(a), 'region "ctx" (0x100000000..+16)');
  assert.deepEqual(
    m.regions.map((r) => r.name),
    ["ctx", "pkt"],
  );
});

test("view aliases the region; read copies; write stores", () => {
  const m = new Memory();
  const bytes = new Uint8Array(8);
  const r = m.addRegion({ kind: "other", name: "buf", bytes });
  m.write(r.address(2), Uint8Array.of(0xaa, 0xbb));
  assert.deepEqual([...bytes], [0, 0, 0xaa, 0xbb, 0, 0, 0, 0]);
  const v = m.view(r.address(2), 2, true);
  v[0] = 1;
  assert.equal(bytes[2], 1);
  const copy = m.read(r.address(2), 2);
  copy[0] = 9;
  assert.equal(bytes[2], 1);
  assert.equal(m.view(r.address(8), 0).length, 0); // empty view at the end is in bounds
});

test("uint helpers are little endian", () => {
  const m = new Memory();
  const r = m.addRegion({ kind: "other", name: "buf", length: 16 });
  m.writeUint(r.base, 8, 0x1122334455667788n);
  assert.deepEqual([...r.bytes.subarray(0, 8)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  assert.equal(m.readUint(r.base, 4), 0x55667788n);
  assert.equal(m.readUint(r.address(6), 2), 0x1122n);
  m.writeUint(r.address(8), 2, -1n);
  assert.equal(m.readUint(r.address(8), 8), 0xffffn);
  m.writeUint(r.address(10), 1, 0x1234n);
  assert.equal(m.readUint(r.address(10), 1), 0x34n);
});

test("bounds, read-only, null and unmapped accesses throw MemoryAccessError", () => {
  const m = new Memory();
  const r = m.addRegion({ kind: "context", name: "ctx", length: 4 });
  const ro = m.addRegion({ kind: "read-only-data", name: ".rodata", bytes: Uint8Array.of(1) });
  assert.throws(
    () => m.read(r.address(2), 4),
    accessError(
      "out-of-bounds",
      /^read of 4 bytes at 0x100000002 out of bounds of region "ctx" \(0x100000000\.\.\+4\)$/,
    ),
  );
  assert.throws(() => m.read(r.address(5), 0), accessError("out-of-bounds"));
  assert.throws(
    () => m.write(ro.base, Uint8Array.of(1)),
    accessError("read-only", /read-only region ".rodata"/),
  );
  assert.equal(m.read(ro.base, 1)[0], 1);
  assert.throws(() => m.read(0n, 1), accessError("unmapped", /null pointer/));
  assert.throws(() => m.read(0x900000000n, 1), accessError("unmapped", /not mapped/));
  assert.throws(() => m.read(-1n, 1), accessError("unmapped"));
});

test("removed regions fault and their ids are reused", () => {
  const m = new Memory();
  const a = m.addRegion({ kind: "other", name: "a", length: 4 });
  m.removeRegion(a);
  assert.throws(() => m.read(a.base, 1), accessError("unmapped"));
  assert.equal(m.regionAt(a.base), undefined);
  const b = m.addRegion({ kind: "other", name: "b", length: 4 });
  assert.equal(b.id, a.id);
  m.removeRegion(a); // stale handle: no effect
  assert.equal(m.regionAt(b.base), b);
});

test("readCString stops at NUL, at max, and faults past the region", () => {
  const m = new Memory();
  const r = m.addRegion({ kind: "other", name: "s", bytes: new TextEncoder().encode("hello\0world") });
  assert.equal(m.readCString(r.base, 64), "hello");
  assert.equal(m.readCString(r.address(6), 3), "wor");
  assert.throws(() => m.readCString(r.address(6), 64), accessError("out-of-bounds"));
});

test("stack frames are 512-byte regions, one set per nesting level", () => {
  const m = new Memory();
  const s0 = m.stackFrame(0);
  assert.equal(s0.length, 512);
  assert.equal(s0.kind, "stack");
  assert.equal(m.stackFrame(0), s0);
  assert.notEqual(m.stackFrame(1), s0);
  assert.notEqual(m.stackFrame(0, 1), s0);
  assert.equal(m.stackFrame(0, 1).name, "stack#1[0]");
});

test("scratch regions: released ones fault like unmapped memory, come back zeroed at the same addresses", () => {
  const m = new Memory();
  const a = m.acquireScratch("packet", "frame", 64);
  a.bytes[3] = 0xaa;
  m.releaseScratch(a);
  assert.throws(() => m.view(a.base, 1), accessError("unmapped"), "a stale pointer faults");
  assert.equal(m.regionAt(a.base), undefined);
  const other = m.addRegion({ kind: "other", name: "x", length: 1 });
  assert.notEqual(other.id, a.id, "the released id stays reserved");
  assert.equal(m.acquireScratch("packet", "frame", 32).id === a.id, false, "another length: another region");
  const again = m.acquireScratch("packet", "frame", 64);
  assert.equal(again, a);
  assert.equal(again.bytes[3], 0, "zero-filled");
  assert.equal(m.view(a.base + 3n, 1)[0], 0);
  m.releaseScratch(again);
  m.removeRegion(again);
  assert.equal(
    m.addRegion({ kind: "other", name: "y", length: 1 }).id,
    a.id,
    "removeRegion frees a released id",
  );
  assert.throws(() => m.remapRegion(again), /not unmapped with unmapRegion/);
  assert.deepEqual([...m.viewAt(other.id, 0, 1)], [0]);
  assert.throws(() => m.viewAt(other.id, 1, 1), accessError("out-of-bounds", /0x\w+00000001/));
});
