/**
 * Ring buffer and perf buffer throughput: events per second drained by tsbpf's
 * RingBufferReader / PerfBufferReader next to a C consumer built on Debian's libbpf
 * (ring_buffer__consume / perf_buffer__consume), compiled by this suite (cc -O2 ... -lbpf) and
 * run in the same run, on the same producer.
 *
 * Protocol, the same for every consumer (bench/ringbuf/*.c):
 * - producer.bpf.o is loaded once; its programs and maps are pinned in a fresh
 *   /sys/fs/bpf/tsbpf-bench-<pid>-ringbuf directory (removed afterwards).
 * - Producer: a C process (bench/ringbuf/producer.c) running the raw_tp program again and
 *   again with BPF_PROG_TEST_RUN; each run emits RECORDS_PER_RUN fixed-size records with
 *   bpf_loop (reserve + submit with BPF_RB_NO_WAKEUP except every 1024th record, or
 *   bpf_perf_event_output, its events waking the reader every 1024 samples), each starting with
 *   a u64 sequence number. Failed reservations (the ring is full) are counted by the program as
 *   drops.
 * - Consumer: opens the map, sets the GO word of the stats map (the producer starts), busy-polls
 *   the ring for TURN_S seconds reading each record's sequence number, sets STOP. Its rate is
 *   the events it consumed in the window divided by the window ("live" rows). The ring is 16 MiB
 *   (the perf buffer 16 MiB per CPU), the same for all.
 * - Drain rows measure the consumer alone: the producer program fills the ring (one test run in
 *   the consumer's process, no other process), then only emptying it is timed; the median of
 *   the rounds is shown. Live rates are bounded by the producer (busy-polling consumers also slow
 *   it down: they share cache lines with it), drain rates are not.
 * On 2 cores the producer takes one and the consumer the other; when a consumer is faster than
 * the producer its rate is the producer's rate (drops 0): compare the produced column.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBpffs } from "../src/kernel/bpffs.js";
import type { KernelMap } from "../src/kernel/map.js";
import { KernelCollection } from "../src/kernel/object/index.js";
import type { KernelProgram } from "../src/kernel/program.js";
import { testRun } from "../src/kernel/test-run.js";
import { PerfBufferReader } from "../src/kernel/perf/index.js";
import { RingBufferReader } from "../src/kernel/ringbuf/index.js";
import { loadObjectFile } from "../src/object/index.js";
import { repoRoot, type BenchRow, type BenchSuite } from "./harness.js";

const SRC = join(repoRoot(), "bench/ringbuf");
/** Records each BPF_PROG_TEST_RUN of the producer emits (one syscall per this many). */
const RECORDS_PER_RUN = 16384;
/** Seconds each consumer drains in live mode, in LIVE_TURNS turns (against bursts of load). */
const WINDOW_S = 1;
const LIVE_TURNS = 2;
const TURN_S = WINDOW_S / LIVE_TURNS;
/** Data pages per CPU of the perf buffers: 16 MiB, the ring buffer's size. */
const PERF_PAGES = 4096;
/**
 * Samples between wake-ups of the perf buffers (the C consumer's WAKEUP_EVENTS): a wake-up per
 * sample (libbpf's perf_buffer__new default) costs ~10 us each in a VM and would be all we measure.
 */
const PERF_WAKEUP_EVENTS = 1024;
const SIZES = [64, 1024] as const;
/** max_entries of the ring in producer.bpf.c. */
const RING_SIZE = 16 << 20;
/** Events of a drain measurement, and untimed warm-up rounds (the JIT, page faults). */
const DRAIN_EVENTS = 3_000_000;
const DRAIN_WARMUP = 2;
const DRAIN_TURNS = 3;

const STAT_PRODUCED = 0;
const STAT_DROPS = 1;
const STAT_CONTROL = 2;
const CONTROL_GO = 1n;
const CONTROL_STOP = 2n;
const CONTROL_STOPPED = 3n;

/** What one consumer run reports (the C consumer prints the same as JSON). */
interface Outcome {
  readonly events: number;
  readonly seconds: number;
  /** Live mode: CPU time (user + system) the consumer's process got in the window. */
  readonly cpuSeconds?: number;
  readonly produced: number;
  readonly drops: number;
  readonly lost: number;
  readonly seqErrors: number;
  /** Drain mode: ns per event of each fill-and-drain round. */
  readonly roundNs?: readonly number[];
}

const key = (slot: number): Uint8Array => new Uint8Array(Uint32Array.of(slot).buffer);
const u64 = (v: bigint): Uint8Array => new Uint8Array(BigUint64Array.of(v).buffer);
const stat = (stats: KernelMap, slot: number): bigint =>
  new BigUint64Array(stats.lookup(key(slot))!.slice().buffer)[0]!;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function compile(dir: string, name: string): string {
  const out = join(dir, name);
  const args = ["-O2", "-Wall", "-o", out, join(SRC, `${name}.c`), "-lbpf"];
  const r = spawnSync(process.env.CC ?? "cc", args, { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(`cc ${args.join(" ")}: ${(r.error?.message ?? r.stderr).trim().split("\n").at(-1)}`);
  return out;
}

interface Setup {
  readonly pins: string;
  readonly bin: string;
  readonly stats: KernelMap;
  readonly ring: KernelMap;
  readonly events: KernelMap;
  readonly programs: ReadonlyMap<string, KernelProgram>;
}

/** Starts the producer of `program` (it waits for GO); the counters are reset first. */
function startProducer(s: Setup, program: string): ChildProcess {
  for (const slot of [STAT_PRODUCED, STAT_DROPS, STAT_CONTROL]) s.stats.update(key(slot), u64(0n));
  return spawn(
    join(s.bin, "producer"),
    [join(s.pins, program), join(s.pins, "stats"), String(RECORDS_PER_RUN)],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

/** Waits until the producer says it stopped (its last test run returned). */
function awaitProducer(s: Setup, child: ChildProcess): void {
  const deadline = performance.now() + 5000;
  while (stat(s.stats, STAT_CONTROL) !== CONTROL_STOPPED && performance.now() < deadline) sleepMs(1);
  child.kill();
}

/** Runs `drain` (which consumes up to a few thousand events and returns how many) for the window. */
function window(s: Setup, drain: () => number, extra: () => { lost: number; seqErrors: number }): Outcome {
  let events = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const end = start + TURN_S * 1000;
  s.stats.update(key(STAT_CONTROL), u64(CONTROL_GO));
  let now = start;
  while ((now = performance.now()) < end) events += drain();
  s.stats.update(key(STAT_CONTROL), u64(CONTROL_STOP));
  const used = process.cpuUsage(cpu);
  return {
    events,
    seconds: (now - start) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    produced: Number(stat(s.stats, STAT_PRODUCED)),
    drops: Number(stat(s.stats, STAT_DROPS)),
    ...extra(),
  };
}

/** Sequence check of the records of one window: each must be the one after the previous. */
class Sequence {
  expected = 0;
  errors = 0;
  check(seq: number): void {
    if (seq !== this.expected) this.errors++;
    this.expected = seq + 1;
  }
}

/** The u64 at `offset` of `view` (sequence numbers stay below 2^53). */
const seqAt = (view: DataView, offset: number): number =>
  view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;

/** The u64 at the start of `data`, read byte by byte (no DataView allocated per record). */
const seqOf = (data: Uint8Array): number =>
  (data[0]! | (data[1]! << 8) | (data[2]! << 16)) + data[3]! * 2 ** 24 + readHigh(data);

/** A callback for each reading API, checking the sequence; the same work as the C callback. */
function ringCallbacks(seq: Sequence) {
  return {
    views: (data: Uint8Array): void => seq.check(seqOf(data)),
    raw: (view: DataView, offset: number): void => seq.check(seqAt(view, offset)),
  };
}

type RingApi = "consume" | "consumeRaw";

function drainOnce(reader: RingBufferReader, api: RingApi, seq: Sequence, max = Infinity): number {
  const cb = ringCallbacks(seq);
  return api === "consume" ? reader.consume(cb.views, max) : reader.consumeRaw(cb.raw, max);
}

function tsbpfRing(s: Setup, reader: RingBufferReader, api: RingApi): Outcome {
  const seq = new Sequence();
  const cb = ringCallbacks(seq);
  const drain =
    api === "consume" ? () => reader.consume(cb.views, 4096) : () => reader.consumeRaw(cb.raw, 4096);
  return window(s, drain, () => ({ lost: 0, seqErrors: seq.errors }));
}

/** The upper 32 bits of the little-endian u64 at the start of `data`, times 2^32. */
const readHigh = (data: Uint8Array): number =>
  ((data[4]! | (data[5]! << 8) | (data[6]! << 16)) + data[7]! * 2 ** 24) * 2 ** 32;

/**
 * The perf consumers' sequence check, the C callback's: each CPU's buffer gets an increasing (not
 * contiguous) part of the sequence; last seen per CPU in an array, as the C consumer's last_seq.
 */
function perfSequence(): { check: (seq: number, cpu: number) => void; errors: () => number } {
  const last: number[] = [];
  let errors = 0;
  return {
    check: (seq, cpu) => {
      if (seq < (last[cpu] ?? 0)) errors++;
      last[cpu] = seq + 1;
    },
    errors: () => errors,
  };
}

function tsbpfPerf(s: Setup, mode: "consume" | "consumeRaw"): Outcome {
  using reader = PerfBufferReader.open(s.events, { pageCount: PERF_PAGES, wakeupEvents: PERF_WAKEUP_EVENTS });
  const { check, errors } = perfSequence();
  let lost = 0;
  return window(
    s,
    mode === "consume"
      ? () =>
          reader.consume((r) => {
            if (r.type === "lost") lost += Number(r.lost);
            else check(seqOf(r.data), r.cpu);
          })
      : () => reader.consumeRaw((view, offset, _length, cpu) => check(seqAt(view, offset), cpu)),
    () => ({ lost: mode === "consume" ? lost : Number(reader.lost), seqErrors: errors() }),
  );
}

function libbpf(s: Setup, kind: "ring" | "perf"): Outcome {
  const map = join(s.pins, kind === "ring" ? "ring" : "events");
  const args = [kind, map, join(s.pins, "stats"), String(TURN_S)];
  if (kind === "perf") args.push(String(PERF_PAGES));
  const r = spawnSync(join(s.bin, "consumer"), args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`consumer ${args.join(" ")}: ${r.stderr.trim() || r.error?.message}`);
  return JSON.parse(r.stdout) as Outcome;
}

/** One measurement: a fresh producer, the consumer, then the ring emptied for the next one. */
function measureOnce(s: Setup, program: string, consumer: () => Outcome, reader: RingBufferReader): Outcome {
  const child = startProducer(s, program);
  try {
    return consumer();
  } finally {
    awaitProducer(s, child);
    reader.consume(() => {});
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** ns per event: the median round in drain mode, else the window over the events. */
const nsPerEvent = (o: Outcome): number =>
  o.roundNs?.length ? median(o.roundNs) : (o.seconds * 1e9) / Math.max(o.events, 1);

function row(name: string, o: Outcome, reference?: Outcome): BenchRow {
  const ns = nsPerEvent(o);
  const parts = [`${(1e3 / ns).toFixed(2)} M events/s`];
  if (o.roundNs) parts.push(`median of ${o.roundNs.length} rounds`);
  else {
    if (o.cpuSeconds) parts.push(`${(o.events / o.cpuSeconds / 1e6).toFixed(2)} M per CPU-s`);
    parts.push(`produced ${(o.produced / o.seconds / 1e6).toFixed(2)} M/s`, `drops ${o.drops}`);
  }
  if (o.lost) parts.push(`lost ${o.lost}`);
  if (o.seqErrors) parts.push(`seq errors ${o.seqErrors}`);
  if (reference) {
    let ratio = `${(nsPerEvent(reference) / ns).toFixed(2)}x libbpf`;
    if (o.cpuSeconds && reference.cpuSeconds)
      ratio += ` (${(o.events / o.cpuSeconds / (reference.events / reference.cpuSeconds)).toFixed(2)}x per CPU-s)`;
    parts.push(ratio);
  }
  return { name, unit: "event", ns, perCall: o.events, note: parts.join(", ") };
}

/** Records that fill the ring: each takes its 8-byte header plus the data rounded up to 8. */
const capacity = (size: number): number => Math.floor((RING_SIZE - 1) / ((size + 8 + 7) & ~7));
/** Fill-and-drain rounds of a drain measurement: about DRAIN_EVENTS events in all. */
const rounds = (size: number): number => Math.ceil(DRAIN_EVENTS / capacity(size));

/**
 * `count` fill-and-drain rounds (after DRAIN_WARMUP untimed ones, while the JIT compiles the
 * loop): `program` fills the buffer with `records` records, then only `drain` is timed.
 */
function drainRounds(
  s: Setup,
  program: string,
  records: number,
  count: number,
  drain: () => number,
  extra: () => { lost: number; seqErrors: number },
): Outcome {
  const prog = s.programs.get(program)!;
  const ctxIn = new Uint8Array(BigUint64Array.of(BigInt(records)).buffer);
  let events = 0;
  let ns = 0;
  const roundNs: number[] = [];
  for (let i = -DRAIN_WARMUP; i < count; i++) {
    testRun(prog, { ctxIn, ctxSizeOut: 0 });
    const start = process.hrtime.bigint();
    const n = drain();
    const took = Number(process.hrtime.bigint() - start);
    if (i < 0) continue;
    ns += took;
    events += n;
    roundNs.push(took / Math.max(n, 1));
  }
  return {
    events,
    seconds: ns / 1e9,
    produced: Number(stat(s.stats, STAT_PRODUCED)),
    drops: Number(stat(s.stats, STAT_DROPS)),
    ...extra(),
    roundNs,
  };
}

/** Drain mode in this process: the program fills the ring, then only the drain is timed. */
function tsbpfDrain(s: Setup, reader: RingBufferReader, size: number, api: RingApi, count: number): Outcome {
  const seq = new Sequence();
  seq.expected = Number(stat(s.stats, STAT_PRODUCED));
  return drainRounds(
    s,
    `ringbuf_${size}`,
    capacity(size),
    count,
    () => drainOnce(reader, api, seq),
    () => ({ lost: 0, seqErrors: seq.errors }),
  );
}

function libbpfDrain(s: Setup, size: number, count: number): Outcome {
  const args = [
    "drain",
    join(s.pins, "ring"),
    join(s.pins, "stats"),
    join(s.pins, `ringbuf_${size}`),
    String(capacity(size)),
    String(count),
  ];
  const r = spawnSync(join(s.bin, "consumer"), args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`consumer ${args.join(" ")}: ${r.stderr.trim() || r.error?.message}`);
  return JSON.parse(r.stdout) as Outcome;
}

/** Samples that fit one CPU's perf buffer with a page to spare: header + u32 size + data, 8-aligned. */
const perfCapacity = (size: number): number =>
  Math.floor(((PERF_PAGES - 1) * 4096) / (8 + ((4 + size + 7) & ~7)));

/**
 * Perf buffer drain in this process: the program fills the buffer of the CPU it runs on, then only
 * the drain is timed. A reader per turn: the C consumer's exit clears the map's slots.
 */
function tsbpfPerfDrain(s: Setup, size: number, api: RingApi, count: number): Outcome {
  using reader = PerfBufferReader.open(s.events, { pageCount: PERF_PAGES, wakeupEvents: PERF_WAKEUP_EVENTS });
  const { check, errors } = perfSequence();
  return drainRounds(
    s,
    `perf_${size}`,
    perfCapacity(size),
    count,
    api === "consume"
      ? () => reader.consume((r) => r.type === "sample" && check(seqOf(r.data), r.cpu))
      : () => reader.consumeRaw((view, offset, _length, cpu) => check(seqAt(view, offset), cpu)),
    () => ({ lost: Number(reader.lost), seqErrors: errors() }),
  );
}

function libbpfPerfDrain(s: Setup, size: number, count: number): Outcome {
  const args = [
    "perfdrain",
    join(s.pins, "events"),
    join(s.pins, "stats"),
    join(s.pins, `perf_${size}`),
    String(perfCapacity(size)),
    String(count),
    String(PERF_PAGES),
  ];
  const r = spawnSync(join(s.bin, "consumer"), args, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`consumer ${args.join(" ")}: ${r.stderr.trim() || r.error?.message}`);
  return JSON.parse(r.stdout) as Outcome;
}

/** Drain outcomes of several turns as one (their rounds together). */
function merge(outcomes: readonly Outcome[]): Outcome {
  const sum = (f: (o: Outcome) => number): number => outcomes.reduce((a, o) => a + f(o), 0);
  const rounds = outcomes.flatMap((o) => o.roundNs ?? []);
  const cpu = sum((o) => o.cpuSeconds ?? 0);
  return {
    events: sum((o) => o.events),
    seconds: sum((o) => o.seconds),
    produced: sum((o) => o.produced),
    drops: sum((o) => o.drops),
    lost: sum((o) => o.lost),
    seqErrors: sum((o) => o.seqErrors),
    ...(cpu ? { cpuSeconds: cpu } : {}),
    ...(rounds.length ? { roundNs: rounds } : {}),
  };
}

/** Live outcomes of `consumers` taking LIVE_TURNS turns of TURN_S seconds each, merged per consumer. */
function liveTurns(consumers: readonly (() => Outcome)[]): Outcome[] {
  const turns = Array.from({ length: LIVE_TURNS }, () => consumers.map((measure) => measure()));
  return consumers.map((_, i) => merge(turns.map((t) => t[i]!)));
}

function rows(s: Setup): BenchRow[] {
  const out: BenchRow[] = [];
  using reader = RingBufferReader.open(s.ring);
  for (const size of SIZES) {
    // The consumers take turns, DRAIN_TURNS times, so a burst of load elsewhere hits them all.
    const count = Math.ceil(rounds(size) / DRAIN_TURNS);
    const turns = Array.from({ length: DRAIN_TURNS }, () => ({
      c: libbpfDrain(s, size, count),
      views: tsbpfDrain(s, reader, size, "consume", count),
      raw: tsbpfDrain(s, reader, size, "consumeRaw", count),
    }));
    const c = merge(turns.map((t) => t.c));
    out.push(row(`ringbuf ${size} B drain: libbpf ring_buffer__consume (C)`, c));
    out.push(row(`ringbuf ${size} B drain: tsbpf consume`, merge(turns.map((t) => t.views)), c));
    out.push(row(`ringbuf ${size} B drain: tsbpf consumeRaw`, merge(turns.map((t) => t.raw)), c));
  }
  for (const size of SIZES) {
    const count = Math.ceil(DRAIN_EVENTS / perfCapacity(size) / DRAIN_TURNS);
    const turns = Array.from({ length: DRAIN_TURNS }, () => ({
      c: libbpfPerfDrain(s, size, count),
      views: tsbpfPerfDrain(s, size, "consume", count),
      raw: tsbpfPerfDrain(s, size, "consumeRaw", count),
    }));
    const c = merge(turns.map((t) => t.c));
    out.push(row(`perf ${size} B drain: libbpf perf_buffer__consume (C)`, c));
    out.push(row(`perf ${size} B drain: tsbpf consume`, merge(turns.map((t) => t.views)), c));
    out.push(row(`perf ${size} B drain: tsbpf consumeRaw`, merge(turns.map((t) => t.raw)), c));
  }
  for (const size of SIZES) {
    const program = `ringbuf_${size}`;
    const [c, views, raw] = liveTurns([
      () => measureOnce(s, program, () => libbpf(s, "ring"), reader),
      () => measureOnce(s, program, () => tsbpfRing(s, reader, "consume"), reader),
      () => measureOnce(s, program, () => tsbpfRing(s, reader, "consumeRaw"), reader),
    ]);
    out.push(row(`ringbuf ${size} B live: libbpf ring_buffer__consume (C)`, c!));
    out.push(row(`ringbuf ${size} B live: tsbpf consume`, views!, c));
    out.push(row(`ringbuf ${size} B live: tsbpf consumeRaw`, raw!, c));
  }
  for (const size of SIZES) {
    const program = `perf_${size}`;
    const [c, views, raw] = liveTurns([
      () => measureOnce(s, program, () => libbpf(s, "perf"), reader),
      () => measureOnce(s, program, () => tsbpfPerf(s, "consume"), reader),
      () => measureOnce(s, program, () => tsbpfPerf(s, "consumeRaw"), reader),
    ]);
    out.push(row(`perf ${size} B live: libbpf perf_buffer__consume (C)`, c!));
    out.push(row(`perf ${size} B live: tsbpf PerfBufferReader.consume`, views!, c));
    out.push(row(`perf ${size} B live: tsbpf PerfBufferReader.consumeRaw`, raw!, c));
  }
  return out;
}

export const ringbufSuite: BenchSuite = {
  /** With the load average: other processes on these 2 cores take CPU from producer and consumer. */
  get title(): string {
    const load = loadavg()[0]!.toFixed(1);
    return `ring buffer / perf buffer consumers (16 MiB, same BPF producer; live: ${LIVE_TURNS} x ${TURN_S} s each; load average ${load})`;
  },
  run(): BenchRow[] {
    let bin: string | undefined;
    let pins: string | undefined;
    let collection: KernelCollection | undefined;
    try {
      bin = mkdtempSync(join(tmpdir(), "tsbpf-ringbench-"));
      compile(bin, "producer");
      compile(bin, "consumer");
      collection = KernelCollection.load(loadObjectFile(join(SRC, "producer.bpf.o")));
      pins = join(ensureBpffs(), `tsbpf-bench-${process.pid}-ringbuf`);
      mkdirSync(pins);
      for (const [name, map] of collection.maps) map.pin(join(pins, name));
      for (const [name, prog] of collection.programs) prog.pin(join(pins, name));
      const c = collection;
      return rows({
        pins,
        bin,
        stats: c.map("stats"),
        ring: c.map("ring"),
        events: c.map("events"),
        programs: c.programs,
      });
    } catch (e) {
      console.log(`  skipped: ${(e as Error).message}`);
      return [];
    } finally {
      collection?.close();
      if (pins) rmSync(pins, { recursive: true, force: true });
      if (bin) rmSync(bin, { recursive: true, force: true });
    }
  },
};
