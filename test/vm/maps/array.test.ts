import { test } from "node:test";
import assert from "node:assert/strict";
import { Errno, MapError, UpdateFlags, MapFlags } from "../../../src/vm/maps/index.js";
import { Memory } from "../../../src/vm/memory.js";
import { errnoOf, getU64, make, MapType, u32, u64 } from "./util.js";

test("array: elements exist zeroed, update/lookup, out of range, no delete", () => {
  const m = make({ type: MapType.ARRAY, valueSize: 12, maxEntries: 3 });
  assert.deepEqual(m.lookup(u32(2)), new Uint8Array(12));
  assert.equal(m.lookup(u32(3)), undefined);
  m.update(u32(1), new Uint8Array(12).fill(7));
  assert.deepEqual(m.lookup(u32(1)), new Uint8Array(12).fill(7));
  assert.equal(
    errnoOf(() => m.update(u32(3), new Uint8Array(12))),
    Errno.E2BIG,
  );
  assert.equal(
    errnoOf(() => m.update(u32(0), new Uint8Array(12), UpdateFlags.NOEXIST)),
    Errno.EEXIST,
  );
  m.update(u32(0), new Uint8Array(12).fill(1), UpdateFlags.EXIST);
  assert.equal(
    errnoOf(() => m.update(u32(0), new Uint8Array(12), 3)),
    Errno.EINVAL,
  );
  assert.throws(
    () => m.update(u32(0), new Uint8Array(12), UpdateFlags.F_LOCK),
    /BPF_F_LOCK.*spin_lock.*EINVAL/,
  );
  assert.equal(
    errnoOf(() => m.delete(u32(0))),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => m.update(u32(0), new Uint8Array(8))),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => m.lookup(new Uint8Array(8))),
    Errno.EINVAL,
  );
});

test("array: program face returns addresses base + i * round_up(value_size, 8)", () => {
  const memory = new Memory();
  const m = make({ type: MapType.ARRAY, valueSize: 12, maxEntries: 3 }, { memory });
  const a0 = m.lookupElem(u32(0), 0);
  assert.notEqual(a0, 0n);
  assert.equal(m.lookupElem(u32(2), 0), a0 + 32n);
  assert.equal(m.lookupElem(u32(3), 0), 0n);
  assert.equal(m.valueAddress(1, 4), a0 + 20n);
  memory.writeUint(a0 + 16n, 8, 0x1122334455667788n);
  assert.equal(getU64(m.lookup(u32(1))!), 0x1122334455667788n);
  assert.equal(m.updateElem(u32(1), new Uint8Array(12).fill(9), UpdateFlags.ANY, 0), 0);
  assert.equal(memory.readUint(a0 + 16n, 1), 9n);
  assert.equal(m.updateElem(u32(1), new Uint8Array(12), UpdateFlags.NOEXIST, 0), -Errno.EEXIST);
  assert.equal(m.updateElem(u32(5), new Uint8Array(12), UpdateFlags.ANY, 0), -Errno.E2BIG);
  assert.equal(m.updateElem(u32(1), new Uint8Array(12), 4, 0), -Errno.EINVAL);
  assert.equal(m.deleteElem(u32(1)), -Errno.EINVAL);
});

test("array: get_next_key walks 0..max-1, restarts from 0 for absent keys", () => {
  const m = make({ type: MapType.ARRAY, maxEntries: 3 });
  assert.deepEqual(m.nextKey(undefined), u32(0));
  assert.deepEqual(m.nextKey(u32(0)), u32(1));
  assert.deepEqual(m.nextKey(u32(2)), undefined);
  assert.deepEqual(m.nextKey(u32(9)), u32(0));
  assert.deepEqual([...m.keys()], [u32(0), u32(1), u32(2)]);
  assert.equal([...m.entries()].length, 3);
});

test("array: creation errors as BPF_MAP_CREATE gives them", () => {
  assert.equal(
    errnoOf(() => make({ type: MapType.ARRAY, keySize: 8 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.ARRAY, valueSize: 0 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.ARRAY, maxEntries: 0 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.PERCPU_ARRAY, valueSize: 40000 })),
    Errno.E2BIG,
  );
  assert.throws(() => make({ type: MapType.ARRAY, keySize: 8 }), MapError);
});

test("percpu_array: one slot per CPU, program writes its CPU, host sees all", () => {
  const memory = new Memory();
  const m = make({ type: MapType.PERCPU_ARRAY, valueSize: 4, maxEntries: 2 }, { memory, cpus: 3 });
  assert.equal(m.perCpu, true);
  const a1 = m.lookupElem(u32(1), 1);
  memory.writeUint(a1, 4, 42n);
  assert.equal(m.updateElem(u32(1), u32(7), 0, 2), 0);
  assert.deepEqual(m.lookupPerCpu(u32(1)), [u32(0), u32(42), u32(7)]);
  // BPF_MAP_LOOKUP_ELEM layout: round_up(value_size, 8) per CPU.
  const all = m.lookup(u32(1))!;
  assert.equal(all.length, 24);
  assert.equal(all[8], 42);
  assert.equal(all[16], 7);
  assert.equal(m.lookupPercpuElem(u32(1), 1), a1);
  assert.equal(m.lookupPercpuElem(u32(1), 3), 0n);
  m.update(u32(0), u32(5)); // one value: every CPU
  assert.deepEqual(m.lookupPerCpu(u32(0)), [u32(5), u32(5), u32(5)]);
  const bytes = new Uint8Array(24);
  bytes[0] = 1;
  bytes[8] = 2;
  bytes[16] = 3;
  m.update(u32(0), bytes);
  assert.deepEqual(m.lookupPerCpu(u32(0)), [u32(1), u32(2), u32(3)]);
  assert.equal(
    errnoOf(() => m.update(u32(0), new Uint8Array(16))),
    Errno.EINVAL,
  );
});

test("global data: contents copied in, .rodata read-only for programs, frozen for the host", () => {
  const memory = new Memory();
  const contents = new Uint8Array([1, 2, 3, 4, 5]);
  const ro = make(
    {
      type: MapType.ARRAY,
      name: "x.rodata",
      valueSize: 5,
      maxEntries: 1,
      contents,
      flags: MapFlags.RDONLY_PROG,
    },
    { memory },
  );
  assert.deepEqual(ro.lookup(u32(0)), contents);
  const addr = ro.valueAddress(0, 2)!;
  assert.equal(memory.readUint(addr, 1), 3n);
  assert.throws(() => memory.writeUint(addr, 1, 0n), /read-only/);
  assert.equal(ro.updateElem(u32(0), new Uint8Array(5), 0, 0), -Errno.EPERM);
  ro.update(u32(0), new Uint8Array([9, 9, 9, 9, 9]));
  ro.freeze();
  assert.equal(
    errnoOf(() => ro.update(u32(0), new Uint8Array(5))),
    Errno.EPERM,
  );
  assert.equal(memory.readUint(addr, 1), 9n);
  const data = make(
    { type: MapType.ARRAY, name: "x.data", valueSize: 5, maxEntries: 1, contents },
    { memory },
  );
  memory.writeUint(data.valueAddress(0, 0)!, 1, 0xffn);
  assert.equal(data.lookup(u32(0))![0], 0xff);
});

test("close unmaps the handle and the values", () => {
  const memory = new Memory();
  const m = make({ type: MapType.ARRAY }, { memory });
  const a = m.lookupElem(u32(0), 0);
  m.close();
  assert.throws(() => memory.readUint(a, 1), /not mapped/);
  assert.throws(() => memory.readUint(m.handle, 1), /not mapped/);
});

test("the handle region holds type, key size, value size, max entries, flags", () => {
  const memory = new Memory();
  const m = make({ type: MapType.ARRAY, valueSize: 24, maxEntries: 7 }, { memory });
  const words = [0, 4, 8, 12, 16].map((o) => Number(memory.readUint(m.handle + BigInt(o), 4)));
  assert.deepEqual(words, [MapType.ARRAY, 4, 24, 7, 0]);
  assert.throws(() => memory.writeUint(m.handle, 4, 0n), /read-only/);
  void u64;
});
