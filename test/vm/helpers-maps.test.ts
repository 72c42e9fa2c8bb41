import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgramBuilder, R0, R1, R2, R3, R4, R6, R10 } from "../../src/isa/builder.js";
import { Size } from "../../src/isa/opcodes.js";
import { helperByName } from "../../src/isa/helpers.js";
import { MapType } from "../../src/object/types.js";
import { HelperRegistry, Interpreter, Memory, VmFault } from "../../src/vm/index.js";
import { registerMapHelpers, type MapHelperEnv } from "../../src/vm/helpers/maps.js";
import { createVmMap, memoryMapTable, Errno, type VmMap } from "../../src/vm/maps/index.js";

const id = (name: string): number => helperByName(name)!.id;
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);
const getU64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

interface Setup {
  memory: Memory;
  env: MapHelperEnv;
  helpers: HelperRegistry;
}
function setup(cpu = 0): Setup {
  const memory = new Memory();
  const env: MapHelperEnv = { maps: memoryMapTable(memory), cpu };
  const helpers = registerMapHelpers(new HelperRegistry(), (call) => call.env as MapHelperEnv);
  return { memory, env, helpers };
}
function run(s: Setup, b: ProgramBuilder, r1 = 0n): bigint {
  return new Interpreter(b.build(), { helpers: s.helpers }).run({
    memory: s.memory,
    env: s.env,
    registers: { r1 },
  }).r0;
}

/** key (u32 at fp-4) = k; r2 = fp-4 */
const keyOnStack = (b: ProgramBuilder, k: number): ProgramBuilder =>
  b.st(Size.W, R10, -4, k).mov(R2, R10).add(R2, -4);

test("helpers are registered under the kernel ids of the helper table", () => {
  const { helpers } = setup();
  for (const name of [
    "bpf_map_lookup_elem",
    "bpf_map_update_elem",
    "bpf_map_delete_elem",
    "bpf_map_push_elem",
    "bpf_map_pop_elem",
    "bpf_map_peek_elem",
    "bpf_map_lookup_percpu_elem",
    "bpf_for_each_map_elem",
  ])
    assert.equal(helpers.get(id(name))?.name, name);
});

test("a counting program: lookup, NULL -> update, else atomic add through the value pointer", () => {
  const s = setup();
  const map = createVmMap(
    { name: "counts", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
    s.memory,
    { cpus: 1 },
  );
  const b = new ProgramBuilder().lddw(R6, map.handle);
  keyOnStack(b, 7).mov(R1, R6).call(id("bpf_map_lookup_elem")).jeq(R0, 0, "init");
  b.mov(R1, 1).atomicAdd(Size.DW, R0, R1, 0).mov(R0, 1).exit();
  b.label("init").st(Size.DW, R10, -16, 1).mov(R1, R6).mov(R3, R10).add(R3, -16).mov(R4, 1); // BPF_NOEXIST
  keyOnStack(b, 7).call(id("bpf_map_update_elem")).exit();
  const prog = new Interpreter(b.build(), { helpers: s.helpers });
  assert.equal(prog.run({ memory: s.memory, env: s.env }).r0, 0n); // update returned 0
  for (let i = 0; i < 4; i++) assert.equal(prog.run({ memory: s.memory, env: s.env }).r0, 1n);
  assert.equal(getU64(map.lookup(u32(7))!), 5n);
});

test("update flags and errno reach the program as negative values", () => {
  const s = setup();
  const map = createVmMap(
    { name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1 },
    s.memory,
    { cpus: 1 },
  );
  map.update(u32(1), u64(1n));
  const update = (key: number, flags: number): bigint => {
    const b = new ProgramBuilder()
      .st(Size.DW, R10, -16, 0)
      .lddw(R1, map.handle)
      .mov(R3, R10)
      .add(R3, -16)
      .mov(R4, flags);
    keyOnStack(b, key).call(id("bpf_map_update_elem")).exit();
    return BigInt.asIntN(64, run(s, b));
  };
  assert.equal(update(1, 1), -BigInt(Errno.EEXIST));
  assert.equal(update(2, 2), -BigInt(Errno.ENOENT));
  assert.equal(update(2, 0), -BigInt(Errno.E2BIG));
  assert.equal(update(1, 4), -BigInt(Errno.EINVAL));
  const del = (key: number): bigint => {
    const b = new ProgramBuilder().lddw(R1, map.handle);
    keyOnStack(b, key).call(id("bpf_map_delete_elem")).exit();
    return BigInt.asIntN(64, run(s, b));
  };
  assert.equal(del(2), -BigInt(Errno.ENOENT));
  assert.equal(del(1), 0n);
  assert.equal(map.lookup(u32(1)), undefined);
});

test("per-CPU lookups select the run's CPU; lookup_percpu_elem takes one", () => {
  const s = setup(1);
  const map = createVmMap(
    { name: "pc", type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 },
    s.memory,
    { cpus: 2 },
  );
  map.update(u32(0), new Uint8Array([...u64(10n), ...u64(11n)]));
  const b = new ProgramBuilder().lddw(R1, map.handle);
  keyOnStack(b, 0).call(id("bpf_map_lookup_elem")).ldx(Size.DW, R0, R0, 0).exit();
  assert.equal(run(s, b), 11n);
  const c = new ProgramBuilder().lddw(R1, map.handle).mov(R3, 0);
  keyOnStack(c, 0).call(id("bpf_map_lookup_percpu_elem")).ldx(Size.DW, R0, R0, 0).exit();
  assert.equal(run(s, c), 10n);
});

test("a map argument that is not a map handle faults naming the register", () => {
  const s = setup();
  const b = new ProgramBuilder().lddw(R1, 0x500000000n);
  keyOnStack(b, 0).call(id("bpf_map_lookup_elem")).exit();
  assert.throws(
    () => run(s, b),
    (e: unknown) => e instanceof VmFault && /r1 = 0x500000000 is not a map/.test(e.message),
  );
});

test("for_each_map_elem: callback(map, key, value, ctx), stops on 1, returns elements visited", () => {
  const s = setup();
  const map: VmMap = createVmMap(
    { name: "h", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
    s.memory,
    { cpus: 1 },
  );
  for (const k of [3, 4, 5, 6]) map.update(u32(k), u64(BigInt(k * 10)));
  // The sum of the values accumulates in ctx (fp-8); the callback (r2 = key, r3 = value, r4 = ctx) stops at key 5.
  const prog = new ProgramBuilder()
    .st(Size.DW, R10, -8, 0)
    .lddw(R1, map.handle)
    .ldFunc(R2, "cb")
    .mov(R3, R10)
    .add(R3, -8)
    .mov(R4, 0)
    .call(id("bpf_for_each_map_elem"))
    .ldx(Size.DW, R1, R10, -8)
    .lsh(R0, 32)
    .or(R0, R1)
    .exit()
    .label("cb")
    .ldx(Size.DW, R0, R3, 0)
    .ldx(Size.DW, R1, R4, 0)
    .add(R1, R0)
    .stx(Size.DW, R4, R1, 0)
    .ldx(Size.W, R1, R2, 0)
    .mov(R0, 0)
    .jne(R1, 5, "out")
    .mov(R0, 1)
    .label("out")
    .exit();
  const r = run(s, prog);
  assert.equal(r >> 32n, 3n, "visited 3, 4, 5");
  assert.equal(r & 0xffffffffn, 120n);
  // bad flags
  const bad = new ProgramBuilder()
    .lddw(R1, map.handle)
    .ldFunc(R2, "cb")
    .mov(R3, 0)
    .mov(R4, 1)
    .call(id("bpf_for_each_map_elem"))
    .exit()
    .label("cb")
    .mov(R0, 0)
    .exit();
  assert.equal(BigInt.asIntN(64, run(s, bad)), -BigInt(Errno.EINVAL));
});

test("map-in-map from a program: outer lookup gives the inner handle, used for an inner lookup", () => {
  const s = setup();
  const inner = { name: "inner", type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 };
  const outer = createVmMap(
    { name: "outer", type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner },
    s.memory,
    { cpus: 1 },
  );
  const a = createVmMap(inner, s.memory, { cpus: 1 });
  a.update(u32(3), u64(333n));
  outer.update(u32(1), u32(a.id));
  const b = new ProgramBuilder().lddw(R1, outer.handle);
  keyOnStack(b, 1).call(id("bpf_map_lookup_elem")).jeq(R0, 0, "miss").mov(R1, R0);
  keyOnStack(b, 3).call(id("bpf_map_lookup_elem")).jeq(R0, 0, "miss").ldx(Size.DW, R0, R0, 0).exit();
  b.label("miss").mov(R0, 0).exit();
  assert.equal(run(s, b), 333n);
});
