import { test } from "node:test";
import assert from "node:assert/strict";
import { ElfFile } from "../../src/elf/index.js";
import { TsbpfError } from "../../src/errors.js";
import { loadObjectSpec } from "../../src/object/index.js";
import { corpusObjects, readObject } from "./corpus.js";

/** xorshift32: a deterministic stream so that a failure can be replayed from its iteration. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const INTERESTING = [0, 1, 2, 4, 7, 8, 16, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
const KCONFIG = { LINUX_KERNEL_VERSION: 1, CONFIG_BPF_SYSCALL: "y" };

/** Byte ranges worth mutating more often: ELF header, section headers, symbols, relocations, .maps, .BTF, code. */
function hotRanges(bytes: Uint8Array): [number, number][] {
  const out: [number, number][] = [[0, 64]];
  try {
    const elf = ElfFile.parse(bytes);
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    const shoff = Number(v.getBigUint64(40, true));
    out.push([shoff, shoff + elf.sections.length * 64]);
    for (const s of elf.sections)
      if (s.size > 0 && !s.name.startsWith(".debug") && s.type !== 8) out.push([s.offset, s.offset + s.size]);
  } catch {
    // the seed itself is fine; nothing else to prefer
  }
  return out;
}

function mutate(seed: Uint8Array, hot: [number, number][], next: () => number): Uint8Array {
  const bytes = seed.slice();
  const v = new DataView(bytes.buffer);
  const pick = (): number => {
    if (next() % 4 === 0) return next() % bytes.length;
    const [a, b] = hot[next() % hot.length]!;
    return Math.min(bytes.length - 1, a + (next() % Math.max(1, b - a)));
  };
  const n = 1 + (next() % 4);
  for (let i = 0; i < n; i++) {
    const at = pick();
    switch (next() % 5) {
      case 0:
        bytes[at] = next() & 0xff;
        break;
      case 1:
        bytes[at]! ^= 1 << (next() % 8);
        break;
      case 2:
        if (at + 4 <= bytes.length) v.setUint32(at & ~3, INTERESTING[next() % INTERESTING.length]!, true);
        break;
      case 3:
        if (at + 8 <= bytes.length)
          v.setBigUint64(at & ~7, BigInt(INTERESTING[next() % INTERESTING.length]!), true);
        break;
      default:
        return bytes.subarray(0, at); // truncation
    }
  }
  return bytes;
}

test("10,000 mutated objects: only TsbpfErrors, no hang, bounded memory", () => {
  const seeds = corpusObjects().map((path) => {
    const bytes = readObject(path);
    return { path, bytes, hot: hotRanges(bytes) };
  });
  assert.ok(seeds.length > 10, "corpus objects");
  const next = rng(Number(process.env.TSBPF_FUZZ_SEED ?? 0x7357b9f));
  const rssBefore = process.memoryUsage().rss;
  const start = Date.now();
  let rejected = 0;
  let slowest = 0;
  const ITERATIONS = 10_000;
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = seeds[next() % seeds.length]!;
    const input = mutate(seed.bytes, seed.hot, next);
    const t0 = Date.now();
    try {
      loadObjectSpec(input, { file: "fuzz.o", kconfig: KCONFIG });
    } catch (e) {
      if (!(e instanceof TsbpfError))
        assert.fail(`iteration ${i} (${seed.path}): ${(e as Error).name}: ${(e as Error).stack ?? e}`);
      assert.ok(!e.message.includes("\n"), `iteration ${i}: one-line message: ${e.message}`);
      rejected++;
    }
    slowest = Math.max(slowest, Date.now() - t0);
  }
  const seconds = (Date.now() - start) / 1000;
  const rssGrowth = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  console.log(
    `# object fuzz: ${ITERATIONS} inputs in ${seconds.toFixed(1)} s, ${rejected} rejected, slowest ${slowest} ms, rss +${rssGrowth.toFixed(0)} MiB`,
  );
  assert.ok(slowest < 2000, `slowest input took ${slowest} ms`);
  assert.ok(rssGrowth < 512, `memory grew by ${rssGrowth} MiB`);
  assert.ok(rejected > ITERATIONS / 20, `mutations are rejected sometimes (${rejected})`);
});
