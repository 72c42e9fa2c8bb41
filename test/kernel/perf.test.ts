import assert from "node:assert/strict";
import { ProgramBuilder, R0, R1, R2, R3, R4, R5, R6, R7, R10 } from "../../src/isa/builder.js";
import { Size } from "../../src/isa/opcodes.js";
import { KernelMap, possibleCpus } from "../../src/kernel/map.js";
import { PerfBufferReader, parseCpuList, type PerfRecord } from "../../src/kernel/perf/index.js";
import { KernelProgram } from "../../src/kernel/program.js";
import { PERF_EVENT_ATTR } from "../../src/kernel/sys/perf-event-attr.js";
import { testRun } from "../../src/kernel/test-run.js";
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

/** An XDP program numbering its runs and sending each number with bpf_perf_event_output(BPF_F_CURRENT_CPU). */
function sequenceProgram(counters: KernelMap, events: KernelMap): KernelProgram {
  const insns = new ProgramBuilder()
    .mov(R6, R1)
    .st(Size.W, R10, -4, 0)
    .ldMapFd(R1, counters.fd)
    .mov(R2, R10)
    .add(R2, -4)
    .call(1)
    .jeq(R0, 0, "out")
    .mov(R7, 1)
    .atomicFetchAdd(Size.DW, R0, R7, 0)
    .stx(Size.DW, R10, R7, -16)
    .mov(R1, R6)
    .ldMapFd(R2, events.fd)
    .lddw(R3, 0xffffffffn) // BPF_F_CURRENT_CPU
    .mov(R4, R10)
    .add(R4, -16)
    .mov(R5, 8)
    .call(25) // perf_event_output
    .label("out")
    .mov(R0, 2)
    .exit()
    .build();
  return KernelProgram.load({ type: "xdp", insns, license: "GPL", name: uniqueName("pbseq") });
}

const u64 = (b: Uint8Array): number =>
  Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true));
const samples = (records: PerfRecord[]): number[] =>
  records.flatMap((r) => (r.type === "sample" ? [u64(r.data)] : []));

function setup() {
  const counters = KernelMap.create({
    type: "array",
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: uniqueName("pbc"),
  });
  const events = KernelMap.create({
    type: "perf_event_array",
    keySize: 4,
    valueSize: 4,
    maxEntries: possibleCpus(),
    name: uniqueName("pb"),
  });
  const prog = sequenceProgram(counters, events);
  return {
    events,
    run: (n: number): void => void testRun(prog, { dataIn: new Uint8Array(64), repeat: n }),
    [Symbol.dispose]() {
      prog.close();
      events.close();
      counters.close();
    },
  };
}

interface Libc {
  func(definition: string): (...args: unknown[]) => unknown;
}
let libc: Libc | undefined;

/**
 * Runs `fn` with the calling thread pinned to the CPU it is on. A test run with `repeat` may
 * migrate between repeats (it reschedules when asked to), and BPF_F_CURRENT_CPU samples would
 * then fill several CPUs' rings.
 */
function onOneCpu<T>(fn: () => T): T {
  libc ??= (createRequire(import.meta.url)("koffi") as { load(path: string): Libc }).load("libc.so.6");
  const getAffinity = libc.func("int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)");
  const setAffinity = libc.func("int sched_setaffinity(int pid, size_t size, const uint8_t *mask)");
  const getCpu = libc.func("int sched_getcpu()");
  const saved = new Uint8Array(128);
  assert.equal(getAffinity(0, saved.length, saved), 0, "sched_getaffinity");
  const cpu = Number(getCpu());
  const one = new Uint8Array(128);
  one[cpu >> 3] = 1 << (cpu & 7);
  assert.equal(setAffinity(0, one.length, one), 0, `sched_setaffinity to CPU ${cpu}`);
  try {
    return fn();
  } finally {
    assert.equal(setAffinity(0, saved.length, saved), 0, "sched_setaffinity back");
  }
}

test("perf_event_attr layout is the 136-byte PERF_ATTR_SIZE_VER8", () => {
  assert.equal(PERF_EVENT_ATTR.size, 136);
  assert.equal(PERF_EVENT_ATTR.fields.config1.offset, 56);
  assert.equal(PERF_EVENT_ATTR.fields.wakeup_events.offset, 48);
  assert.equal(PERF_EVENT_ATTR.fields.config3.offset, 128);
  assert.deepEqual(parseCpuList("0-2,5,7-8\n"), [0, 1, 2, 5, 7, 8]);
});

test("perf_event_attr offsets match <linux/perf_event.h> (compiled with cc)", (t) => {
  const fields = [
    "config",
    "sample_period",
    "sample_type",
    "read_format",
    "wakeup_events",
    "bp_type",
    "config1",
    "config2",
    "branch_sample_type",
    "sample_regs_user",
    "sample_stack_user",
    "clockid",
    "sample_regs_intr",
    "aux_watermark",
    "sample_max_stack",
    "aux_sample_size",
    "sig_data",
  ] as const;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-perfattr-"));
  try {
    const src = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/perf_event.h>\nint main(void){${fields
      .map((f) => `printf("${f} %zu\\n", offsetof(struct perf_event_attr, ${f}));`)
      .join("")}printf("size %zu\\n", sizeof(struct perf_event_attr));
#ifdef PERF_ATTR_SIZE_VER8
printf("config3 %zu\\n", offsetof(struct perf_event_attr, config3));
#endif
return 0;}`;
    writeFileSync(join(dir, "o.c"), src);
    try {
      execFileSync("cc", ["-o", join(dir, "o"), join(dir, "o.c")], { stdio: "pipe" });
    } catch (e) {
      t.skip(`cc or linux/perf_event.h unavailable: ${(e as Error).message.split("\n")[0]}`);
      return;
    }
    const got = Object.fromEntries(
      execFileSync(join(dir, "o"), { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([k, v]) => [k!, Number(v)]),
    );
    for (const f of fields) assert.equal(PERF_EVENT_ATTR.fields[f].offset, got[f], f);
    // Older headers (6.1) end before config3 (PERF_ATTR_SIZE_VER8).
    if (got.config3 !== undefined) assert.equal(PERF_EVENT_ATTR.fields.config3.offset, got.config3);
    const size = got.size;
    assert.ok(size !== undefined, "the header gives sizeof(struct perf_event_attr)");
    assert.equal(PERF_EVENT_ATTR.sizeof, got.config3 !== undefined ? size : size + 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describeKernel("perf buffer reader", () => {
  kernelTest("samples come in order with their CPU; padding follows the 8 bytes", () => {
    using s = setup();
    using reader = PerfBufferReader.open(s.events);
    s.run(10);
    const records = reader.readAll();
    assert.deepEqual(samples(records), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of records) {
      assert.ok(reader.cpus.includes(r.cpu));
      if (r.type === "sample") assert.equal(r.data.byteLength, 12); // 8 + 4 padding (u32 size + raw = 8k)
    }
    assert.equal(reader.lost, 0n);
  });

  kernelTest("records wrapping around the end of the ring are reassembled", () => {
    using s = setup();
    using reader = PerfBufferReader.open(s.events, { pageCount: 1 });
    const got: number[] = [];
    // 24-byte records in a 4096-byte ring: the 171st straddles the end.
    for (let round = 0; round < 4; round++) {
      s.run(100);
      got.push(...samples(reader.readAll()));
    }
    assert.deepEqual(
      got,
      Array.from({ length: 400 }, (_, i) => i),
    );
  });

  kernelTest("consumeRaw gives the same samples as (view, offset, length, cpu), also across the end", () => {
    using s = setup();
    using reader = PerfBufferReader.open(s.events, { pageCount: 1 });
    const got: number[] = [];
    let n = 0;
    for (let round = 0; round < 4; round++) {
      s.run(100);
      n += reader.consumeRaw((view, offset, length, cpu) => {
        assert.equal(length, 12);
        assert.ok(reader.cpus.includes(cpu));
        got.push(Number(view.getBigUint64(offset, true)));
      });
    }
    assert.equal(n, 400);
    assert.deepEqual(
      got,
      Array.from({ length: 400 }, (_, i) => i),
    );
    assert.equal(
      reader.consumeRaw(() => assert.fail("nothing is left")),
      0,
    );
  });

  kernelTest("a callback that throws leaves its sample in the ring: the next consume starts there", () => {
    using s = setup();
    using reader = PerfBufferReader.open(s.events);
    s.run(3);
    const seen: number[] = [];
    assert.throws(
      () =>
        reader.consume((r) => {
          if (r.type !== "sample") return;
          if (u64(r.data) === 1) throw new Error("stop");
          seen.push(u64(r.data));
        }),
      /stop/,
    );
    assert.deepEqual(seen, [0]);
    assert.deepEqual(samples(reader.readAll()), [1, 2]);
  });

  kernelTest("a full ring: the kernel counts lost samples and reports them (PERF_RECORD_LOST)", () =>
    onOneCpu(() => {
      using s = setup();
      using reader = PerfBufferReader.open(s.events, { pageCount: 1 });
      s.run(300);
      const kept = samples(reader.readAll());
      assert.deepEqual(
        kept,
        Array.from({ length: kept.length }, (_, i) => i),
      );
      assert.ok(kept.length >= 150 && kept.length < 300, `${kept.length} kept`);
      // The LOST record is written before the next sample that finds room.
      s.run(1);
      const after = reader.readAll();
      const lost = after.filter((r) => r.type === "lost");
      assert.equal(lost.length, 1);
      assert.equal(reader.lost, BigInt(300 - kept.length));
      assert.deepEqual(samples(after), [300]);
    }),
  );

  kernelTest("poll() waits for a wake-up on a worker thread", async () => {
    using s = setup();
    using reader = PerfBufferReader.open(s.events);
    setTimeout(() => s.run(2), 30);
    const got: number[] = [];
    let n = 0;
    const deadline = Date.now() + 3000;
    while (got.length < 2 && Date.now() < deadline)
      n += await reader.poll(1000, (r) => r.type === "sample" && got.push(u64(r.data)));
    assert.deepEqual(got, [0, 1]);
    assert.equal(n, 2);
  });

  kernelTest("closing removes the CPUs' events from the map", () => {
    using s = setup();
    const reader = PerfBufferReader.open(s.events);
    const cpu = reader.cpus[0]!;
    reader.close();
    reader.close();
    // perf_event_array slots cannot be looked up from userspace; deleting says whether one is set.
    assert.equal(s.events.delete(new Uint8Array(Uint32Array.of(cpu).buffer)), false);
    assert.throws(() => reader.consume(() => {}), /closed/);
  });
});
