import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Errno,
  MapFlags,
  UpdateFlags,
  jhash,
  jhash2,
  type BloomFilterMap,
} from "../../../src/vm/maps/index.js";
import { Memory } from "../../../src/vm/memory.js";
import { errnoOf, getU32, make, MapType, u32 } from "./util.js";

test("queue: FIFO, -E2BIG when full, BPF_EXIST drops the oldest, -ENOENT when empty", () => {
  const q = make({ type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 3 });
  for (const v of [1, 2, 3]) q.push(u32(v));
  assert.equal(
    errnoOf(() => q.push(u32(4))),
    Errno.E2BIG,
  );
  q.push(u32(4), UpdateFlags.EXIST);
  assert.deepEqual(q.peek(), u32(2));
  assert.deepEqual(
    [q.pop(), q.pop(), q.pop()].map((v) => getU32(v!)),
    [2, 3, 4],
  );
  assert.equal(q.pop(), undefined);
  const out = new Uint8Array(4);
  assert.equal(q.popElem(out), -Errno.ENOENT);
  assert.equal(q.peekElem(out), -Errno.ENOENT);
  assert.equal(q.pushElem(u32(1), UpdateFlags.NOEXIST), -Errno.EINVAL);
  assert.equal(
    errnoOf(() => make({ type: MapType.QUEUE, keySize: 4 })),
    Errno.EINVAL,
  );
});

test("stack: LIFO; BPF_EXIST overwrites the oldest (bottom) value when full", () => {
  const s = make({ type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 3 });
  for (const v of [1, 2, 3]) assert.equal(s.pushElem(u32(v), 0), 0);
  assert.equal(s.pushElem(u32(4), 0), -Errno.E2BIG);
  assert.equal(s.pushElem(u32(4), UpdateFlags.EXIST), 0);
  const out = new Uint8Array(4);
  const popped: number[] = [];
  while (s.popElem(out) === 0) popped.push(getU32(out));
  assert.deepEqual(popped, [4, 3, 2]);
});

test("jhash/jhash2 match lookup3 reference values", () => {
  const text = new TextEncoder().encode("Four score and seven years ago");
  assert.equal(jhash(new Uint8Array(0), 0), 0xdeadbeef);
  assert.equal(jhash(text, 0), 0x17770551);
  assert.equal(jhash(text, 1), 0xcd628161);
  // jhash2 over words equals jhash over the same bytes (little endian) for lengths of 4n.
  const words = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  for (const n of [4, 8, 12, 16])
    assert.equal(jhash2(words.subarray(0, n), 7), jhash(words.subarray(0, n), 7));
});

test("bloom filter: no false negatives, few false positives, sized like the kernel", () => {
  const b = make({
    type: MapType.BLOOM_FILTER,
    keySize: 0,
    valueSize: 4,
    maxEntries: 1000,
  }) as BloomFilterMap;
  assert.equal(b.hashFuncs, 5);
  assert.equal(b.mask + 1, 8192); // 1000 * 5 * 7 / 5 = 7000 -> 8192
  for (let i = 0; i < 1000; i++) b.push(u32(i * 7919));
  for (let i = 0; i < 1000; i++) assert.equal(b.contains(u32(i * 7919)), true);
  let fp = 0;
  for (let i = 0; i < 2000; i++) if (b.contains(u32(1_000_000 + i))) fp++;
  assert.ok(fp < 200, `false positive rate too high: ${fp}/2000`);
  assert.equal(b.pushElem(u32(1), UpdateFlags.EXIST), -Errno.EINVAL);
  assert.equal(b.popElem(new Uint8Array(4)), -Errno.EOPNOTSUPP);
  const three = make({
    type: MapType.BLOOM_FILTER,
    keySize: 0,
    valueSize: 3,
    maxEntries: 4,
    mapExtra: 3n,
  }) as BloomFilterMap;
  assert.equal(three.hashFuncs, 3);
  assert.equal(three.mask, 63);
  three.push(new Uint8Array([1, 2, 3]));
  assert.equal(three.contains(new Uint8Array([1, 2, 3])), true);
  assert.equal(
    errnoOf(() => make({ type: MapType.BLOOM_FILTER, keySize: 0, mapExtra: 16n })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.BLOOM_FILTER, keySize: 4 })),
    Errno.EINVAL,
  );
});

const lpmKey = (prefixlen: number, ...bytes: number[]): Uint8Array =>
  new Uint8Array([...u32(prefixlen), ...bytes]);

test("lpm_trie: longest prefix match, exact update/delete, NO_PREALLOC, -ENOSPC, post-order keys", () => {
  assert.equal(
    errnoOf(() => make({ type: MapType.LPM_TRIE, keySize: 8, valueSize: 4 })),
    Errno.EINVAL,
  );
  const t = make({
    type: MapType.LPM_TRIE,
    keySize: 8,
    valueSize: 4,
    maxEntries: 4,
    flags: MapFlags.NO_PREALLOC,
  });
  t.update(lpmKey(8, 10, 0, 0, 0), u32(8));
  t.update(lpmKey(16, 10, 1, 0, 0), u32(16));
  t.update(lpmKey(24, 10, 1, 2, 99), u32(24)); // bits past the prefix are ignored for matching
  assert.equal(getU32(t.lookup(lpmKey(32, 10, 1, 2, 3))!), 24);
  assert.equal(getU32(t.lookup(lpmKey(32, 10, 1, 3, 3))!), 16);
  assert.equal(getU32(t.lookup(lpmKey(32, 10, 9, 9, 9))!), 8);
  assert.equal(getU32(t.lookup(lpmKey(20, 10, 1, 2, 3))!), 16, "the key's prefixlen limits the match");
  assert.equal(t.lookup(lpmKey(32, 11, 0, 0, 0)), undefined);
  assert.equal(t.lookup(lpmKey(33, 10, 1, 2, 3)), undefined);
  assert.equal(
    errnoOf(() => t.update(lpmKey(16, 10, 1, 7, 7), u32(0), UpdateFlags.NOEXIST)),
    Errno.EEXIST,
  );
  assert.equal(
    errnoOf(() => t.update(lpmKey(12, 10, 1, 0, 0), u32(0), UpdateFlags.EXIST)),
    Errno.ENOENT,
  );
  assert.equal(
    errnoOf(() => t.update(lpmKey(33, 1, 0, 0, 0), u32(0))),
    Errno.EINVAL,
  );
  t.update(lpmKey(24, 10, 1, 0, 0), u32(240));
  assert.equal(
    errnoOf(() => t.update(lpmKey(0, 0, 0, 0, 0), u32(0))),
    Errno.ENOSPC,
  );
  // post-order: 10.1.0/24, 10.1.2/24, 10.1/16, 10/8
  assert.deepEqual(
    [...t.keys()].map((k) => `${getU32(k)}:${k[4]}.${k[5]}.${k[6]}`),
    ["24:10.1.0", "24:10.1.2", "16:10.1.0", "8:10.0.0"],
  );
  assert.equal(t.delete(lpmKey(16, 10, 1, 0, 0)), true);
  assert.equal(t.delete(lpmKey(16, 10, 1, 0, 0)), false);
  assert.equal(getU32(t.lookup(lpmKey(32, 10, 1, 3, 3))!), 8);
  assert.notEqual(t.lookupElem(lpmKey(32, 10, 1, 2, 0), 0), 0n);
});

test("map-in-map: inner maps must match the template; lookups return inner handles", () => {
  const memory = new Memory();
  const inner = { name: "inner", type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 };
  const outer = make(
    { type: MapType.ARRAY_OF_MAPS, valueSize: 4, maxEntries: 2, innerMap: inner },
    { memory },
  );
  const a = make({ ...inner, name: "a" }, { memory });
  const wrong = make({ ...inner, name: "b", maxEntries: 3 }, { memory });
  assert.throws(
    () => (outer as import("../../../src/vm/maps/index.js").MapInMap).setInner(0, wrong),
    /max entries 3 != 2/,
  );
  outer.update(u32(1), u32(a.id));
  assert.equal(outer.lookupElem(u32(1), 0), a.handle);
  assert.equal(outer.lookupElem(u32(0), 0), 0n);
  assert.deepEqual(outer.lookup(u32(1)), u32(a.id));
  assert.equal(outer.updateElem(u32(0), u32(a.id), 0, 0), -Errno.ENOTSUPP);
  assert.equal(
    errnoOf(() => make({ type: MapType.HASH_OF_MAPS, valueSize: 4 })),
    Errno.EBADF,
  );
  const hom = make(
    { type: MapType.HASH_OF_MAPS, keySize: 8, valueSize: 4, maxEntries: 1, innerMap: inner },
    { memory },
  );
  hom.update(new Uint8Array(8), u32(a.id));
  assert.equal(
    errnoOf(() => hom.update(new Uint8Array(8).fill(1), u32(a.id))),
    Errno.E2BIG,
  );
  assert.equal(
    errnoOf(() => hom.update(new Uint8Array(8).fill(1), u32(9999))),
    Errno.EBADF,
  );
});
