// Mutation fuzzing of real BTF: every mutated blob is parsed and fully walked (every type decoded,
// sizes and alignments, the raw and C dumps, .BTF.ext); only FormatError may come out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError } from "../../src/errors.js";
import {
  alignof,
  dumpC,
  dumpRaw,
  parseBtf,
  parseBtfExt,
  resolveTypedefs,
  sizeof,
} from "../../src/btf/index.js";
import { benchObjects, elfSection } from "./fixtures.js";

/** xorshift32: a seeded generator, so a failure names a reproducible case. */
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

const INTERESTING = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffff, 0xffffff,
];

function mutate(src: Uint8Array, next: () => number): Uint8Array {
  let b = new Uint8Array(src);
  const n = 1 + (next() % 4);
  for (let i = 0; i < n; i++) {
    const r = next() % 100;
    const at = next() % b.length;
    if (r < 40) {
      b[at] = next() & 0xff; // random byte
    } else if (r < 50) {
      b[at]! ^= 1 << (next() % 8); // bit flip
    } else if (r < 80 && at + 4 <= b.length) {
      // an interesting u32, aligned like BTF fields (info words, ids, sizes, offsets)
      const aligned = at & ~3;
      new DataView(b.buffer).setUint32(
        aligned,
        INTERESTING[next() % INTERESTING.length]! ^ (r < 65 ? 0 : next() & 0xff),
        true,
      );
    } else if (r < 90) {
      // a small id (references into the same blob make loops)
      const aligned = at & ~3;
      if (aligned + 4 <= b.length) new DataView(b.buffer).setUint32(aligned, next() % 40, true);
    } else if (r < 95) {
      b = b.subarray(0, at); // truncation
      if (b.length === 0) return b;
    } else {
      // kind byte of some record: flip to another kind
      b[at | 3] = (next() % 21) | (next() & 0x80);
    }
  }
  return b;
}

/** Parses and walks everything; returns normally or throws FormatError. */
function walk(bytes: Uint8Array, ext: Uint8Array | undefined): void {
  const btf = parseBtf(bytes, { file: "fuzz.btf" });
  for (let id = 0; id < btf.count; id++) {
    let t;
    try {
      t = btf.typeById(id);
    } catch (e) {
      if (e instanceof FormatError) continue;
      throw e;
    }
    for (const f of [sizeof, alignof, resolveTypedefs]) {
      try {
        f(t);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }
  }
  try {
    dumpRaw(btf);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
  try {
    dumpC(btf);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
  if (ext) parseBtfExt(ext, btf, { file: "fuzz.btf.ext" });
}

test("10,000+ mutations of object BTF: FormatError or success, never anything else", () => {
  const inputs = benchObjects().map((p) => ({
    path: p,
    btf: elfSection(p, ".BTF"),
    ext: elfSection(p, ".BTF.ext"),
  }));
  assert.ok(inputs.length > 0);
  const next = rng(0x5eed);
  let ok = 0;
  let rejected = 0;
  const N = 12_000;
  for (let i = 0; i < N; i++) {
    const input = inputs[i % inputs.length]!;
    const onExt = i % 6 === 5; // some rounds mutate .BTF.ext instead of .BTF
    const bytes = onExt ? input.btf : mutate(input.btf, next);
    const ext = onExt ? mutate(input.ext, next) : input.ext;
    try {
      walk(bytes, ext);
      ok++;
    } catch (e) {
      if (!(e instanceof FormatError)) {
        const which = onExt ? ".BTF.ext" : ".BTF";
        assert.fail(
          `mutation ${i} of ${input.path} ${which}: ${String(e)}\n${(e as Error).stack}\nbytes: ${Buffer.from(onExt ? ext : bytes).toString("hex")}`,
        );
      }
      assert.ok(e.message.length < 400 && !e.message.includes("\n"), `one-line message: ${e.message}`);
      rejected++;
    }
  }
  console.log(`fuzz: ${ok} parsed and walked, ${rejected} rejected with FormatError`);
  // both outcomes happen: the fuzzer is neither too gentle nor too destructive
  assert.ok(ok > N / 20 && rejected > N / 20, `ok ${ok}, rejected ${rejected}`);
});
