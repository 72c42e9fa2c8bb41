import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R10 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import { helperByName } from "../../../src/isa/helpers.js";
import { HelperRegistry, Interpreter, Memory } from "../../../src/vm/index.js";
import { registerMapHelpers, type MapHelperEnv } from "../../../src/vm/helpers/maps.js";
import {
  Errno,
  memoryMapTable,
  RingbufQuery,
  RINGBUF_BUSY_BIT,
  RINGBUF_DISCARD_BIT,
  u32Key,
  type PerfEventArrayMap,
  type ProgArrayMap,
  type RingbufMap,
} from "../../../src/vm/maps/index.js";
import { errnoOf, getU32, make, MapType } from "./util.js";

const id = (name: string): number => helperByName(name)!.id;

function ring(size = 4096, memory = new Memory()): RingbufMap {
  return make(
    { type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: size },
    { memory },
  ) as RingbufMap;
}

test("ringbuf: creation needs a power-of-2 page multiple and no key/value", () => {
  assert.equal(
    errnoOf(() => ring(4096 * 3)),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => ring(2048)),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.RINGBUF, keySize: 4, valueSize: 0, maxEntries: 4096 })),
    Errno.EINVAL,
  );
});

test("ringbuf: record layout (8-byte header, busy/discard bits, pg_off), discard, query", () => {
  const rb = ring();
  const a = rb.reserve(5);
  assert.notEqual(a, 0n);
  const hdr = new DataView(rb.ring.buffer);
  assert.equal(hdr.getUint32(0, true), (5 | RINGBUF_BUSY_BIT) >>> 0);
  assert.equal(hdr.getUint32(4, true), 3);
  assert.equal(rb.query(RingbufQuery.PROD_POS), 16n);
  assert.deepEqual(rb.drain(), [], "a busy record stops the consumer");
  rb.memory.write(a, new Uint8Array([1, 2, 3, 4, 5]));
  const b = rb.reserve(3);
  assert.equal(b, a + 16n);
  rb.commit(b, 0, true);
  assert.equal(hdr.getUint32(16, true), (3 | RINGBUF_DISCARD_BIT) >>> 0);
  rb.commit(a, 0, false);
  assert.equal(hdr.getUint32(0, true), 5);
  assert.throws(() => rb.commit(a, 0, false), /already submitted/);
  assert.equal(rb.query(RingbufQuery.AVAIL_DATA), 32n);
  assert.equal(rb.query(RingbufQuery.RING_SIZE), 4096n);
  assert.deepEqual(rb.drain(), [new Uint8Array([1, 2, 3, 4, 5])]);
  assert.equal(rb.query(RingbufQuery.CONS_POS), 32n);
  assert.equal(rb.query(99), 0n);
});

test("ringbuf: full ring refuses reservations; records wrap around the end", () => {
  const rb = ring();
  assert.equal(rb.reserve(4096), 0n, "larger than the ring");
  assert.equal(rb.output(new Uint8Array(4000), 0), 0);
  assert.equal(rb.output(new Uint8Array(100), 0), -Errno.EAGAIN, "4008 + 112 > 4095");
  assert.equal(rb.output(new Uint8Array(1), 4), -Errno.EINVAL);
  assert.equal(rb.drain().length, 1);
  // producer at 4008: a 200-byte sample crosses the end of the ring.
  const sample = Uint8Array.from({ length: 200 }, (_, i) => i);
  assert.equal(rb.output(sample, 0), 0);
  const [got] = rb.drain();
  assert.deepEqual(got, sample);
  assert.deepEqual(rb.ring.subarray(0, 8), sample.subarray(80, 88), "the wrapped part is at the start");
  // A busy record holds back the producer: pending position limits the ring too.
  const held = rb.reserve(2000);
  assert.notEqual(held, 0n);
  assert.equal(rb.reserve(2100), 0n);
  rb.commit(held, 0, true);
  assert.equal(rb.drain().length, 0);
  assert.notEqual(rb.reserve(2100), 0n);
});

function setup(cpu = 0): { memory: Memory; env: MapHelperEnv; helpers: HelperRegistry } {
  const memory = new Memory();
  return {
    memory,
    env: { maps: memoryMapTable(memory), cpu },
    helpers: registerMapHelpers(new HelperRegistry(), (call) => call.env as MapHelperEnv),
  };
}

test("ringbuf helpers from a program: reserve, write, submit; output; query", () => {
  const s = setup();
  const rb = ring(4096, s.memory);
  const b = new ProgramBuilder()
    .lddw(R6, rb.handle)
    .mov(R1, R6)
    .mov(R2, 12)
    .mov(R3, 0)
    .call(id("bpf_ringbuf_reserve"))
    .jeq(R0, 0, "out")
    .st(Size.W, R0, 0, 0x11223344)
    .st(Size.DW, R0, 4, 7)
    .mov(R1, R0)
    .mov(R2, 0)
    .call(id("bpf_ringbuf_submit"))
    .st(Size.W, R10, -4, 0xabcd)
    .mov(R1, R6)
    .mov(R2, R10)
    .add(R2, -4)
    .mov(R3, 4)
    .mov(R4, 0)
    .call(id("bpf_ringbuf_output"))
    .mov(R1, R6)
    .mov(R2, RingbufQuery.AVAIL_DATA)
    .call(id("bpf_ringbuf_query"))
    .label("out")
    .exit();
  const r0 = new Interpreter(b.build(), { helpers: s.helpers }).run({ memory: s.memory, env: s.env }).r0;
  assert.equal(r0, 24n + 16n);
  const [first, second] = rb.drain();
  assert.equal(getU32(first!), 0x11223344);
  assert.equal(first!.length, 12);
  assert.deepEqual(second, new Uint8Array([0xcd, 0xab, 0, 0]));
});

test("perf_event_output: per-CPU buffers, BPF_F_CURRENT_CPU, errors, lost counting", () => {
  const s = setup(1);
  const perf = make(
    { type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 },
    { memory: s.memory, cpus: 2 },
  ) as PerfEventArrayMap;
  assert.equal(perf.maxEntries, 2);
  const out = (flags: bigint, size = 8): bigint => {
    const b = new ProgramBuilder()
      .st(Size.DW, R10, -8, 0x55)
      .lddw(R2, perf.handle)
      .lddw(R3, flags)
      .mov(R4, R10)
      .add(R4, -8)
      .mov(R5, size)
      .call(id("bpf_perf_event_output"))
      .exit();
    return BigInt.asIntN(
      64,
      new Interpreter(b.build(), { helpers: s.helpers }).run({ memory: s.memory, env: s.env }).r0,
    );
  };
  assert.equal(out(0xffffffffn), -BigInt(Errno.ENOENT), "no perf event in the slot: nothing open yet");
  const reader = perf.open();
  assert.deepEqual(reader.cpus, [0, 1]);
  assert.equal(out(0xffffffffn), 0n);
  assert.equal(out(0n), -BigInt(Errno.EOPNOTSUPP), "CPU 0's event from CPU 1");
  assert.equal(out(5n), -BigInt(Errno.E2BIG));
  assert.equal(out(1n << 60n), -BigInt(Errno.EINVAL));
  assert.equal(out(1n << 32n), -BigInt(Errno.EINVAL), "ctx bytes without a contextBytes hook");
  assert.deepEqual(reader.readAll(), [
    { type: "sample", cpu: 1, data: new Uint8Array([0x55, 0, 0, 0, 0, 0, 0, 0]) },
  ]);
  // 24 bytes per 8-byte sample; fill the 64-page budget then lose two.
  const fits = Math.floor(reader.bufferBytes / 24);
  for (let i = 0; i < fits; i++) assert.equal(perf.output(1, 1, new Uint8Array(8)), 0);
  assert.equal(perf.output(1, 1, new Uint8Array(8)), -Errno.ENOSPC);
  assert.equal(perf.output(1, 1, new Uint8Array(8)), -Errno.ENOSPC);
  assert.equal(reader.lost, 2n);
  assert.equal(reader.pendingBytes(1), fits * 24);
  const records = reader.readAll();
  assert.equal(records.length, fits + 1);
  assert.deepEqual(records[fits], { type: "lost", cpu: 1, lost: 2n });
  assert.equal(perf.output(1, 1, new Uint8Array(8)), 0, "reading frees the ring");
  reader.close();
  assert.equal(out(0xffffffffn), -BigInt(Errno.ENOENT), "closing the reader empties the slots");
  assert.throws(() => reader.readAll(), /closed/);
});

test("perf event array readers: chosen CPUs only, own budget, delete, wait for a sample", async () => {
  const s = setup(0);
  const perf = make(
    { type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 },
    { memory: s.memory, cpus: 4 },
  ) as PerfEventArrayMap;
  assert.throws(() => perf.open({ cpus: [7] }), /no CPU 7/);
  assert.throws(() => perf.open({ cpus: [3] }), /no CPU to read/, "CPU 3 has no slot");
  const reader = perf.open({ cpus: [1], bufferBytes: 48 });
  assert.deepEqual(reader.cpus, [1]);
  assert.equal(perf.output(0, 0, new Uint8Array(8)), -Errno.ENOENT, "CPU 0 was not opened");
  assert.equal(perf.output(1, 1, new Uint8Array(8)), 0);
  assert.equal(perf.output(1, 1, new Uint8Array(8)), 0);
  assert.equal(perf.output(1, 1, new Uint8Array(8)), -Errno.ENOSPC, "48 bytes hold two samples");
  assert.equal(
    reader.consume(() => {}),
    3,
  );
  assert.equal(await reader.wait(1), false, "nothing arrived");
  const waiting = reader.poll(-1, () => {});
  perf.output(1, 1, new Uint8Array(4));
  assert.equal(await waiting, 1);
  assert.equal(perf.delete(u32Key(1)), true);
  assert.equal(perf.delete(u32Key(1)), false);
  assert.equal(perf.output(1, 1, new Uint8Array(8)), -Errno.ENOENT, "deleted");
  reader.close();
});

test("tail calls through a prog array; an empty slot falls through with an error", () => {
  const s = setup();
  const pa = make(
    { type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 },
    { memory: s.memory },
  ) as ProgArrayMap;
  const target = new Interpreter(new ProgramBuilder().ldx(Size.DW, R0, R1, 0).add(R0, 1000).exit().build(), {
    helpers: s.helpers,
  });
  pa.setProgram(2, target);
  const caller = (index: number): bigint => {
    const b = new ProgramBuilder()
      .mov(R6, R1)
      .lddw(R2, pa.handle)
      .mov(R3, index)
      .call(id("bpf_tail_call"))
      .mov(R0, 7)
      .exit();
    const ctx = s.memory.addRegion({ kind: "context", name: "ctx", length: 8 });
    s.memory.writeUint(ctx.base, 8, 5n);
    return new Interpreter(b.build(), { helpers: s.helpers }).run({
      memory: s.memory,
      env: s.env,
      registers: { r1: ctx.base },
    }).r0;
  };
  assert.equal(caller(2), 1005n);
  assert.equal(caller(1), 7n);
  assert.equal(caller(9), 7n);
  assert.equal(
    errnoOf(() => pa.setProgram(4, target)),
    Errno.E2BIG,
  );
  void R5;
});
