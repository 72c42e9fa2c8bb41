import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pageSize } from "../../src/kernel/perf/event.js";
import { RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT, RingBufferReader } from "../../src/kernel/ringbuf/index.js";
import { BpfCmd, MAP_INFO, MapType, encodeStruct, useSyscalls } from "../../src/kernel/sys/index.js";
import { fakeSyscalls } from "./fake-syscalls.js";

/**
 * The reader's consume loop on a fake ring (no kernel): positions near 2^32 (the reader keeps
 * only their low 32 bits and must store the carry as one 64-bit value), records wrapping the
 * end of the data area (mirrored as the kernel's double mapping does), BUSY, DISCARD, `max`,
 * and a throwing callback.
 */
const SIZE = 4096;
const CONSUMER = 0x10000n;
const PRODUCER = 0x20000n;

class FakeRing {
  readonly consumer = new ArrayBuffer(pageSize());
  readonly producer = new ArrayBuffer(pageSize() + 2 * SIZE);
  readonly data = new Uint8Array(this.producer, pageSize());
  readonly cons = new BigUint64Array(this.consumer, 0, 1);
  readonly prod = new BigUint64Array(this.producer, 0, 1);
  #restore: () => void;

  constructor(start: bigint) {
    this.cons[0] = start;
    this.prod[0] = start;
    const fake = fakeSyscalls((cmd, attr, memory) => {
      assert.equal(cmd, BpfCmd.OBJ_GET_INFO_BY_FD);
      memory
        .at(attr.getBigUint64(8, true))!
        .set(encodeStruct(MAP_INFO, { type: MapType.RINGBUF, max_entries: SIZE }));
      return 0;
    });
    const views = new Map([
      [CONSUMER, this.consumer],
      [PRODUCER, this.producer],
    ]);
    this.#restore = useSyscalls({
      ...fake,
      mmap: (_len, _prot, _flags, _fd, offset) => (offset === 0 ? CONSUMER : PRODUCER),
      munmap: () => 0,
      view: (address) => views.get(address)!,
      epollCreate1: () => 100,
      epollCtl: () => 0,
    });
  }

  /** Writes a record at producer_pos (header bits as given) and advances producer_pos. */
  push(payload: number[], bits = 0): void {
    const record = new Uint8Array((8 + payload.length + 7) & ~7);
    new DataView(record.buffer).setUint32(0, payload.length | bits, true);
    record.set(payload, 8);
    const off = Number(this.prod[0]! & BigInt(SIZE - 1));
    for (let i = 0; i < record.length; i++) {
      const at = (off + i) % SIZE;
      this.data[at] = record[i]!;
      this.data[at + SIZE] = record[i]!; // the second mapping of the same page
    }
    this.prod[0] = this.prod[0]! + BigInt(record.length);
  }

  [Symbol.dispose](): void {
    this.#restore();
  }
}

const collect = (reader: RingBufferReader, max?: number): number[][] => {
  const got: number[][] = [];
  reader.consumeRaw((view, offset, length) => {
    got.push([...new Uint8Array(view.buffer, view.byteOffset + offset, length)]);
  }, max);
  return got;
};

describe("ring buffer reader positions (fake ring)", () => {
  test("consuming across 2^32 stores the carried 64-bit consumer_pos", () => {
    // 24 bytes before 2^32: the second record straddles both 2^32 and the end of the ring (its
    // header is the last 8 bytes, its data comes from the second mapping).
    using ring = new FakeRing(2n ** 32n - 24n);
    using reader = RingBufferReader.open(7);
    ring.push([1, 2, 3]);
    ring.push([4]);
    ring.push([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert.equal(reader.pending, 16 + 16 + 24);
    assert.deepEqual(collect(reader), [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]]);
    assert.equal(ring.cons[0], 2n ** 32n + 32n);
    assert.equal(reader.pending, 0);
    ring.push([15]);
    assert.deepEqual(collect(reader), [[15]]);
    assert.equal(ring.cons[0], 2n ** 32n + 48n);
  });

  test("next() and read() cross 2^32 too", () => {
    using ring = new FakeRing(2n ** 32n - 8n);
    using reader = RingBufferReader.open(7);
    ring.push([9, 9]);
    ring.push([8]);
    assert.deepEqual([...reader.next()!], [9, 9]);
    assert.equal(ring.cons[0], 2n ** 32n - 8n, "committed only on the next call");
    assert.deepEqual([...reader.read()!], [8]);
    assert.equal(ring.cons[0], 2n ** 32n + 24n);
    assert.equal(reader.next(), undefined);
  });

  test("discarded records are skipped, a busy one ends the batch", () => {
    using ring = new FakeRing(4000n);
    using reader = RingBufferReader.open(7);
    ring.push([1]);
    ring.push([2], RINGBUF_DISCARD_BIT);
    ring.push([3]);
    ring.push([4], RINGBUF_BUSY_BIT);
    ring.push([5]);
    assert.deepEqual(collect(reader), [[1], [3]]);
    assert.equal(ring.cons[0], 4048n, "stopped at the busy record");
    // The producer commits it: the header loses BUSY.
    const off = 4048 % SIZE;
    new DataView(ring.data.buffer, ring.data.byteOffset).setUint32(off, 1, true);
    new DataView(ring.data.buffer, ring.data.byteOffset).setUint32(off + SIZE, 1, true);
    assert.deepEqual(collect(reader), [[4], [5]]);
  });

  test("max limits a batch; a throwing callback still consumes its record", () => {
    using ring = new FakeRing(0n);
    using reader = RingBufferReader.open(7);
    for (let i = 0; i < 5; i++) ring.push([i]);
    assert.deepEqual(collect(reader, 2), [[0], [1]]);
    assert.equal(ring.cons[0], 32n);
    assert.throws(
      () =>
        reader.consume((data) => {
          if (data[0] === 3) throw new Error("boom");
        }),
      /boom/,
    );
    assert.equal(ring.cons[0], 64n);
    assert.deepEqual(collect(reader), [[4]]);
  });
});
