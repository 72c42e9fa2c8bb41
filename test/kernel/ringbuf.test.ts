import assert from "node:assert/strict";
import { ProgramBuilder, R0, R1, R2, R3, R7, R10 } from "../../src/isa/builder.js";
import { Size } from "../../src/isa/opcodes.js";
import { KernelMap } from "../../src/kernel/map.js";
import { KernelProgram } from "../../src/kernel/program.js";
import { RingBufferReader } from "../../src/kernel/ringbuf/index.js";
import { testRun } from "../../src/kernel/test-run.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

/**
 * An XDP program numbering its runs (slot 0 of `counters`): run i reserves 8 bytes of the ring
 * buffer, writes i, and submits it when i is even, discards it when odd. A failed reservation
 * adds 1 to slot 1.
 */
function sequenceProgram(counters: KernelMap, ring: KernelMap): KernelProgram {
  const insns = new ProgramBuilder()
    .st(Size.W, R10, -4, 0)
    .ldMapFd(R1, counters.fd)
    .mov(R2, R10)
    .add(R2, -4)
    .call(1) // map_lookup_elem
    .jeq(R0, 0, "out")
    .mov(R7, 1)
    .atomicFetchAdd(Size.DW, R0, R7, 0) // r7 = run number
    .ldMapFd(R1, ring.fd)
    .mov(R2, 8)
    .mov(R3, 0)
    .call(131) // ringbuf_reserve
    .jeq(R0, 0, "failed")
    .stx(Size.DW, R0, R7, 0)
    .mov(R1, R0)
    .mov(R2, 0)
    .jset(R7, 1, "discard")
    .call(132) // ringbuf_submit
    .ja("out")
    .label("discard")
    .call(133) // ringbuf_discard
    .ja("out")
    .label("failed")
    .st(Size.W, R10, -4, 1)
    .ldMapFd(R1, counters.fd)
    .mov(R2, R10)
    .add(R2, -4)
    .call(1)
    .jeq(R0, 0, "out")
    .mov(R1, 1)
    .atomicAdd(Size.DW, R0, R1, 0)
    .label("out")
    .mov(R0, 2) // XDP_PASS
    .exit()
    .build();
  return KernelProgram.load({ type: "xdp", insns, license: "GPL", name: uniqueName("rbseq") });
}

const u64 = (b: Uint8Array): number =>
  Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true));

function setup(ringSize = 4096) {
  const counters = KernelMap.create({
    type: "array",
    keySize: 4,
    valueSize: 8,
    maxEntries: 2,
    name: uniqueName("rbc"),
  });
  const ring = KernelMap.create({
    type: "ringbuf",
    keySize: 0,
    valueSize: 0,
    maxEntries: ringSize,
    name: uniqueName("rb"),
  });
  const prog = sequenceProgram(counters, ring);
  const run = (n: number): void => void testRun(prog, { dataIn: new Uint8Array(64), repeat: n });
  const failures = (): number => u64(counters.lookup(Uint8Array.of(1, 0, 0, 0))!);
  return {
    ring,
    run,
    failures,
    [Symbol.dispose]() {
      prog.close();
      ring.close();
      counters.close();
    },
  };
}

describeKernel("ring buffer reader", () => {
  kernelTest("records come in order, discarded ones are skipped, views are zero-copy", () => {
    using s = setup();
    using reader = RingBufferReader.open(s.ring);
    assert.equal(reader.size, 4096);
    s.run(10);
    const first = reader.next()!;
    assert.equal(first.byteLength, 8);
    assert.equal(u64(first), 0);
    const got = [u64(first)];
    reader.consume((view) => got.push(u64(view)));
    assert.deepEqual(got, [0, 2, 4, 6, 8]);
    assert.equal(reader.pending, 0);
    assert.equal(reader.read(), undefined);
  });

  kernelTest("consumeRaw hands (view, offset, length) into the ring, max bounds a batch", () => {
    using s = setup();
    using reader = RingBufferReader.open(s.ring);
    s.run(10);
    const got: number[] = [];
    const raw = (view: DataView, offset: number, length: number): void => {
      assert.equal(length, 8);
      assert.equal(offset % 8, 0);
      got.push(Number(view.getBigUint64(offset, true)));
    };
    assert.equal(reader.consumeRaw(raw, 2), 2);
    assert.equal(reader.consumeRaw(raw), 3);
    assert.deepEqual(got, [0, 2, 4, 6, 8]);
    assert.equal(reader.pending, 0);
  });

  kernelTest("a full ring: reservations fail and the program counts them", () => {
    using s = setup(4096);
    using reader = RingBufferReader.open(s.ring);
    // 16 bytes per record (8-byte header + 8); the producer may be at most size - 1 bytes
    // ahead of the consumer: 255 fit, the other 45 fail.
    s.run(300);
    assert.equal(s.failures(), 45);
    const got: number[] = [];
    reader.consume((v) => got.push(u64(v)));
    assert.deepEqual(
      got,
      Array.from({ length: 128 }, (_, i) => i * 2),
    );
    // After consuming there is room again, and the numbering continues.
    s.run(2);
    assert.deepEqual([u64(reader.read()!)], [300]);
  });

  kernelTest("poll() waits for the kernel's wake-up without blocking the event loop", async () => {
    using s = setup();
    using reader = RingBufferReader.open(s.ring);
    // The record is produced from a timer after 3 ticks: it only arrives if the event loop runs
    // while poll() waits (counting ticks in a fixed time was flaky on a loaded machine).
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 3) s.run(1);
    }, 5);
    const got: number[] = [];
    const n = await reader.poll(3000, (v) => got.push(u64(v)));
    clearInterval(timer);
    assert.equal(n, 1);
    assert.deepEqual(got, [0]);
    assert.ok(ticks >= 3);
    assert.equal(await reader.poll(20, () => assert.fail("nothing more")), 0);
  });

  kernelTest("async iteration yields copies until closed", async () => {
    using s = setup();
    const reader = RingBufferReader.open(s.ring);
    s.run(6);
    const got: number[] = [];
    for await (const record of reader) {
      got.push(u64(record));
      if (got.length === 3) reader.close();
    }
    assert.deepEqual(got, [0, 2, 4]);
    assert.throws(() => reader.next(), /closed/);
    reader.close();
  });

  kernelTest("a non-ringbuf map is refused with its type", () => {
    using m = KernelMap.create({
      type: "array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: uniqueName("notrb"),
    });
    assert.throws(() => RingBufferReader.open(m), /is a array map, not a ringbuf/);
  });
});
