import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  KernelMap,
  SyscallError,
  ensureBpffs,
  isBpffs,
  possibleCpus,
  unpin,
  type MapSpec,
} from "../../src/kernel/index.js";
import { MapFlags, MapType, UpdateFlags, mapGetNextId } from "../../src/kernel/sys/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);
const num = (b: Uint8Array | undefined): number | undefined =>
  b && new DataView(b.buffer, b.byteOffset).getUint32(0, true);

/** Creates a map, runs `fn`, closes the map even when `fn` fails. */
function withMap(spec: Omit<MapSpec, "name"> & { name?: string }, fn: (m: KernelMap) => void): void {
  const m = KernelMap.create({ name: uniqueName("tsbpf_t"), ...spec });
  try {
    fn(m);
  } finally {
    m.close();
  }
}

describeKernel("KernelMap on the running kernel", () => {
  kernelTest("array: fixed keys, update flags, no delete", () => {
    withMap({ type: "array", keySize: 4, valueSize: 8, maxEntries: 4 }, (m) => {
      assert.equal(m.info.type, MapType.ARRAY);
      assert.equal(m.info.typeName, "array");
      assert.equal(m.info.maxEntries, 4);
      assert.ok(m.info.id > 0);
      assert.deepEqual(m.lookup(u32(3)), new Uint8Array(8), "arrays start zeroed");
      m.update(u32(1), u64(42));
      assert.equal(num(m.lookup(u32(1))), 42);
      assert.equal(m.lookup(u32(4)), undefined, "out of range");
      assert.throws(() => m.update(u32(1), u64(1), UpdateFlags.NOEXIST), /EEXIST/);
      assert.throws(
        () => m.delete(u32(1)),
        (e: unknown) => e instanceof SyscallError && e.errnoName === "EINVAL",
      );
      assert.deepEqual([...m.keys()].map(num), [0, 1, 2, 3]);
    });
  });

  kernelTest("hash: update/lookup/delete/iterate, NOEXIST/EXIST, full map", () => {
    withMap({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 3 }, (m) => {
      m.update(u32(10), u32(100));
      m.update(u32(20), u32(200), UpdateFlags.NOEXIST);
      assert.throws(() => m.update(u32(30), u32(1), UpdateFlags.EXIST), /ENOENT/);
      m.update(u32(20), u32(201), UpdateFlags.EXIST);
      m.update(u32(30), u32(300));
      assert.throws(() => m.update(u32(40), u32(1)), /E2BIG.*map is full/);
      const entries = new Map([...m.entries()].map(([k, v]) => [num(k), num(v)]));
      assert.deepEqual(
        entries,
        new Map([
          [10, 100],
          [20, 201],
          [30, 300],
        ]),
      );
      assert.equal(m.delete(u32(10)), true);
      assert.equal(m.delete(u32(10)), false);
      assert.equal(m.lookup(u32(10)), undefined);
      assert.equal(num(m.lookupAndDelete(u32(20))), 201);
      assert.deepEqual([...m.keys()].map(num), [30]);
      assert.throws(() => m.lookup(new Uint8Array(3)), /key must be 4 bytes, got 3/);
    });
  });

  kernelTest("hash: batch update, lookup, delete and lookup-and-delete", () => {
    withMap({ type: "hash", keySize: 4, valueSize: 8, maxEntries: 1000 }, (m) => {
      const keys = Array.from({ length: 300 }, (_, i) => u32(i));
      assert.equal(
        m.updateBatch(
          keys,
          keys.map((_, i) => u64(i * 3)),
        ),
        300,
      );
      const seen = new Map([...m.batchEntries(7)].map(([k, v]) => [num(k), num(v)]));
      assert.equal(seen.size, 300);
      for (let i = 0; i < 300; i++) assert.equal(seen.get(i), i * 3);
      assert.equal(m.deleteBatch(keys.slice(0, 100)), 100);
      assert.equal([...m.keys()].length, 200);
      assert.equal([...m.batchEntries(64, true)].length, 200);
      assert.equal(m.nextKey(), undefined, "lookup-and-delete batch emptied the map");
    });
  });

  kernelTest("percpu_array: one slot per possible CPU, rounded to 8 bytes", () => {
    withMap({ type: "percpu_array", keySize: 4, valueSize: 4, maxEntries: 2 }, (m) => {
      assert.ok(m.perCpu);
      assert.equal(m.valueBufferSize, 8 * possibleCpus());
      const values = Array.from({ length: possibleCpus() }, (_, cpu) => u32(cpu + 7));
      m.updatePerCpu(u32(1), values);
      assert.deepEqual(m.lookupPerCpu(u32(1)), values);
      assert.throws(() => m.update(u32(1), u32(1)), /value must be \d+ bytes \(\d+ CPU slots\)/);
    });
  });

  kernelTest("lru_hash evicts instead of failing when full", () => {
    withMap({ type: "lru_hash", keySize: 4, valueSize: 4, maxEntries: 64 }, (m) => {
      for (let i = 0; i < 500; i++) m.update(u32(i), u32(i));
      const n = [...m.keys()].length;
      assert.ok(n > 0 && n <= 500, `${n} entries`);
      assert.equal(num(m.lookup(u32(499))), 499, "the newest entry survives");
    });
  });

  kernelTest("lpm_trie: longest prefix match", () => {
    // key: u32 prefix length + 4 bytes of IPv4 address
    const key = (len: number, a: number, b: number, c: number, d: number): Uint8Array =>
      new Uint8Array([len, 0, 0, 0, a, b, c, d]);
    withMap(
      { type: "lpm_trie", keySize: 8, valueSize: 4, maxEntries: 16, flags: MapFlags.NO_PREALLOC },
      (m) => {
        m.update(key(8, 10, 0, 0, 0), u32(8));
        m.update(key(24, 10, 1, 2, 0), u32(24));
        assert.equal(num(m.lookup(key(32, 10, 1, 2, 3))), 24);
        assert.equal(num(m.lookup(key(32, 10, 9, 9, 9))), 8);
        assert.equal(m.lookup(key(32, 11, 0, 0, 0)), undefined);
      },
    );
  });

  kernelTest("queue and stack: push, pop order, empty", () => {
    withMap({ type: "queue", keySize: 0, valueSize: 4, maxEntries: 4 }, (q) => {
      [1, 2, 3].forEach((n) => q.push(u32(n)));
      assert.equal(num(q.lookup(null)), 1, "peek");
      assert.deepEqual([num(q.pop()), num(q.pop()), num(q.pop()), q.pop()], [1, 2, 3, undefined]);
    });
    withMap({ type: "stack", keySize: 0, valueSize: 4, maxEntries: 4 }, (s) => {
      [1, 2, 3].forEach((n) => s.push(u32(n)));
      assert.deepEqual([num(s.pop()), num(s.pop()), num(s.pop())], [3, 2, 1]);
    });
  });

  kernelTest("bloom_filter: added values may be contained, others surely not", () => {
    withMap({ type: "bloom_filter", keySize: 0, valueSize: 4, maxEntries: 100, mapExtra: 3 }, (b) => {
      for (let i = 0; i < 20; i++) b.push(u32(i * 7));
      for (let i = 0; i < 20; i++) assert.ok(b.mayContain(u32(i * 7)));
      const misses = Array.from({ length: 50 }, (_, i) => b.mayContain(u32(100_000 + i))).filter((x) => !x);
      assert.ok(misses.length > 40, `${misses.length} of 50 absent values reported absent`);
    });
  });

  kernelTest("ringbuf is created with a power-of-two page-multiple size", () => {
    withMap({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 4096 * 4 }, (r) => {
      assert.equal(r.info.typeName, "ringbuf");
      assert.equal(r.info.maxEntries, 16384);
    });
    assert.throws(
      () => KernelMap.create({ type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: 1000, name: "bad_rb" }),
      /BPF_MAP_CREATE failed: EINVAL/,
    );
  });

  kernelTest("array_of_maps holds inner maps by fd and gives back their ids", () => {
    withMap({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, (inner) => {
      withMap(
        { type: "array_of_maps", keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner },
        (outer) => {
          outer.update(u32(0), u32(inner.fd));
          assert.equal(num(outer.lookup(u32(0))), inner.info.id);
          assert.equal(outer.lookup(u32(1)), undefined);
        },
      );
    });
  });

  kernelTest("freeze makes a map read-only for userspace", () => {
    withMap({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, (m) => {
      m.update(u32(0), u32(5));
      m.freeze();
      assert.throws(() => m.update(u32(0), u32(6)), /EPERM/);
      assert.equal(num(m.lookup(u32(0))), 5);
    });
  });

  kernelTest("pin under /sys/fs/bpf, reopen by path and by id, unpin", () => {
    const dir = ensureBpffs();
    assert.ok(isBpffs(dir));
    const path = `${dir}/${uniqueName("tsbpf_pin")}`;
    withMap({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 8 }, (m) => {
      try {
        m.update(u32(1), u32(11));
        m.pin(path);
        assert.ok(existsSync(path));
        assert.throws(() => m.pin(path), /EEXIST.*already pinned/);
        const again = KernelMap.fromPin(path);
        try {
          assert.equal(again.info.id, m.info.id);
          assert.equal(num(again.lookup(u32(1))), 11);
        } finally {
          again.close();
        }
        const byId = KernelMap.fromId(m.info.id);
        try {
          assert.equal(byId.info.name, m.info.name);
        } finally {
          byId.close();
        }
      } finally {
        unpin(path);
      }
      assert.ok(!existsSync(path));
      assert.throws(() => KernelMap.fromPin(path), /nothing is pinned at this path/);
    });
  });

  kernelTest("map ids list our map; close is idempotent and later use is an error", () => {
    const m = KernelMap.create({
      type: "array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: uniqueName("tsbpf_l"),
    });
    try {
      const ids: number[] = [];
      for (let id = mapGetNextId(0); id !== undefined; id = mapGetNextId(id)) ids.push(id);
      assert.ok(ids.includes(m.info.id));
    } finally {
      m.close();
      m.close();
    }
    assert.ok(m.closed);
    assert.throws(() => m.lookup(u32(0)), /is closed/);
  });
});
