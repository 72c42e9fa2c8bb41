import { test } from "node:test";
import assert from "node:assert/strict";
import { Errno, UpdateFlags, MapFlags, GRAVEYARD_SIZE } from "../../../src/vm/maps/index.js";
import { Memory } from "../../../src/vm/memory.js";
import { errnoOf, getU32, make, MapType, u32, u64 } from "./util.js";

test("hash: BPF_ANY/NOEXIST/EXIST, -E2BIG when full, delete", () => {
  const m = make({ type: MapType.HASH, maxEntries: 2 });
  assert.equal(m.lookup(u32(1)), undefined);
  assert.equal(
    errnoOf(() => m.update(u32(1), u64(1), UpdateFlags.EXIST)),
    Errno.ENOENT,
  );
  m.update(u32(1), u64(10), UpdateFlags.NOEXIST);
  assert.equal(
    errnoOf(() => m.update(u32(1), u64(11), UpdateFlags.NOEXIST)),
    Errno.EEXIST,
  );
  m.update(u32(1), u64(12), UpdateFlags.EXIST);
  m.update(u32(2), u64(20));
  assert.equal(
    errnoOf(() => m.update(u32(3), u64(30))),
    Errno.E2BIG,
  );
  m.update(u32(2), u64(21)); // updating an existing key in a full map works
  assert.deepEqual(m.lookup(u32(1)), u64(12));
  assert.equal(m.delete(u32(1)), true);
  assert.equal(m.delete(u32(1)), false);
  m.update(u32(3), u64(30));
  assert.deepEqual([...m.keys()], [u32(2), u32(3)]);
  assert.equal(
    errnoOf(() => m.update(u32(4), u64(1), 7)),
    Errno.EINVAL,
  );
  assert.equal(m.updateElem(u32(9), u64(1), UpdateFlags.F_LOCK, 0), -Errno.EINVAL);
  assert.equal(m.deleteElem(u32(9)), -Errno.ENOENT);
});

test("hash: insertion-order iteration and get_next_key", () => {
  const m = make({ type: MapType.HASH, maxEntries: 10 });
  for (const k of [5, 3, 9]) m.update(u32(k), u64(k));
  assert.deepEqual(m.nextKey(undefined), u32(5));
  assert.deepEqual(m.nextKey(u32(5)), u32(3));
  assert.deepEqual(m.nextKey(u32(9)), undefined);
  assert.deepEqual(m.nextKey(u32(77)), u32(5), "absent key: first key, like the kernel");
  assert.deepEqual(
    [...m.entries()].map(([k, v]) => [getU32(k), getU32(v)]),
    [
      [5, 5],
      [3, 3],
      [9, 9],
    ],
  );
});

test("hash: values are regions; a deleted element's pointer faults and never aliases a new element", () => {
  const memory = new Memory();
  const m = make({ type: MapType.HASH, maxEntries: 4, valueSize: 8 }, { memory });
  m.update(u32(1), u64(111));
  const a = m.lookupElem(u32(1), 0);
  assert.equal(memory.readUint(a, 8), 111n);
  memory.writeUint(a, 8, 112n);
  assert.deepEqual(m.lookup(u32(1)), u64(112));
  assert.throws(() => memory.readUint(a + 8n, 1), /out of bounds/);
  assert.equal(m.deleteElem(u32(1)), 0);
  m.update(u32(2), u64(222));
  const b = m.lookupElem(u32(2), 0);
  assert.notEqual(b >> 32n, a >> 32n);
  assert.throws(() => memory.writeUint(a, 8, 0n), /\(deleted\)/);
  assert.deepEqual(m.lookup(u32(2)), u64(222));
  // Churn: the placeholder of the first deletion lives for GRAVEYARD_SIZE more deletions.
  for (let i = 0; i < 50; i++) {
    m.update(u32(100 + i), u64(i));
    m.delete(u32(100 + i));
  }
  assert.throws(() => memory.readUint(a, 8), /\(deleted\)/);
  assert.ok(GRAVEYARD_SIZE >= 1024);
});

test("hash: update in place keeps the pointer valid", () => {
  const memory = new Memory();
  const m = make({ type: MapType.HASH }, { memory });
  m.update(u32(1), u64(1));
  const a = m.lookupElem(u32(1), 0);
  assert.equal(m.updateElem(u32(1), u64(5), UpdateFlags.EXIST, 0), 0);
  assert.equal(memory.readUint(a, 8), 5n);
});

test("percpu_hash: program update sets its CPU and zeroes the others; host broadcast", () => {
  const memory = new Memory();
  const m = make({ type: MapType.PERCPU_HASH, valueSize: 4 }, { memory, cpus: 2 });
  assert.equal(m.updateElem(u32(1), u32(9), 0, 1), 0);
  assert.deepEqual(m.lookupPerCpu(u32(1)), [u32(0), u32(9)]);
  const a0 = m.lookupElem(u32(1), 0);
  const a1 = m.lookupElem(u32(1), 1);
  assert.equal(a1 - a0, 8n);
  assert.equal(m.lookupPercpuElem(u32(1), 1), a1);
  assert.equal(m.lookupPercpuElem(u32(1), 2), 0n);
  m.update(u32(2), u32(3));
  assert.deepEqual(m.lookupPerCpu(u32(2)), [u32(3), u32(3)]);
  assert.equal(m.lookup(u32(2))!.length, 16);
});

test("lru_hash: evicts the least recently used element instead of -E2BIG", () => {
  const m = make({ type: MapType.LRU_HASH, maxEntries: 3 });
  for (const k of [1, 2, 3]) m.update(u32(k), u64(k));
  assert.notEqual(m.lookupElem(u32(1), 0), 0n); // 1 is now the most recently used
  m.lookup(u32(2)); // host lookups do not count as use
  m.update(u32(4), u64(4)); // evicts 2
  assert.deepEqual(
    [...m.keys()].map((k) => getU32(k)),
    [1, 3, 4],
  );
  assert.equal(m.updateElem(u32(3), u64(33), 0, 0), 0); // 3 used
  m.update(u32(5), u64(5)); // evicts 1
  assert.deepEqual(
    [...m.keys()].map((k) => getU32(k)),
    [3, 4, 5],
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.LRU_HASH, flags: MapFlags.NO_PREALLOC })),
    Errno.ENOTSUPP,
  );
});

test("lru_percpu_hash: eviction and per-CPU values", () => {
  const m = make({ type: MapType.LRU_PERCPU_HASH, maxEntries: 1, valueSize: 8 }, { cpus: 2 });
  m.update(u32(1), u64(1));
  m.update(u32(2), u64(2));
  assert.deepEqual([...m.keys()], [u32(2)]);
  assert.deepEqual(m.lookupPerCpu(u32(2)), [u64(2), u64(2)]);
});

test("hash: creation errors", () => {
  assert.equal(
    errnoOf(() => make({ type: MapType.HASH, keySize: 0 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.HASH, maxEntries: 0 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.HASH, keySize: 513 })),
    Errno.E2BIG,
  );
});
