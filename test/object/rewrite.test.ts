import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { TsbpfError } from "../../src/errors.js";
import { loadObjectSpec, resizeMaps, rewriteConstants, type ObjectSpec } from "../../src/object/index.js";
import { repoRoot } from "../helpers/shared.js";

const spec = (): ObjectSpec =>
  loadObjectSpec(new Uint8Array(readFileSync(join(repoRoot, "bpf/lang/global_data.bpf.o"))), {
    file: "global_data.bpf.o",
  });

const contents = (s: ObjectSpec, section: string): Uint8Array => {
  const g = s.globals.find((x) => x.section === section)!;
  return s.maps.find((m) => m.name === g.map)!.contents!;
};

test("rewriteConstants writes .rodata and .data variables by name and size, in a copy", () => {
  const before = spec();
  const after = rewriteConstants(before, { scale: 0x01020304, counter: 7, unset: undefined } as Record<
    string,
    number | undefined
  >);
  assert.deepEqual([...contents(after, ".rodata").subarray(0, 4)], [4, 3, 2, 1]);
  assert.deepEqual([...contents(after, ".data").subarray(0, 4)], [7, 0, 0, 0]);
  assert.deepEqual([...contents(before, ".rodata").subarray(0, 4)], [3, 0, 0, 0], "the input is not changed");
  assert.equal(rewriteConstants(before, {}), before);
  // booleans, negative numbers and bytes
  assert.deepEqual(
    [...contents(rewriteConstants(before, { scale: true }), ".rodata").subarray(0, 4)],
    [1, 0, 0, 0],
  );
  assert.deepEqual(
    [...contents(rewriteConstants(before, { scale: -1 }), ".rodata").subarray(0, 4)],
    [255, 255, 255, 255],
  );
  assert.deepEqual(
    [...contents(rewriteConstants(before, { scale: Uint8Array.of(9, 8) }), ".rodata").subarray(0, 4)],
    [9, 8, 0, 0],
  );
});

test("rewriteConstants: unknown names, values that do not fit, .bss", () => {
  const s = spec();
  assert.throws(
    () => rewriteConstants(s, { nope: 1 }),
    (e: unknown) =>
      e instanceof TsbpfError &&
      /^global_data\.bpf\.o: no constant 'nope' \(there are: .*scale.*counter/.test(e.message),
  );
  assert.throws(() => rewriteConstants(s, { runs: 1 }), /no constant 'runs'/, ".bss is zeroed by the kernel");
  assert.throws(
    () => rewriteConstants(s, { scale: 2 ** 32 }),
    /constant 'scale': 4294967296 does not fit in 4 bytes/,
  );
  assert.throws(() => rewriteConstants(s, { scale: "12345" }), /constant 'scale': 5 bytes do not fit in 4/);
});

test("resizeMaps sets max_entries by map name; an unknown map throws", () => {
  const s = loadObjectSpec(new Uint8Array(readFileSync(join(repoRoot, "bpf/maps/hash.bpf.o"))));
  assert.equal(resizeMaps(s, { proto_count: 3 }).maps.find((m) => m.name === "proto_count")!.maxEntries, 3);
  assert.throws(() => resizeMaps(s, { nope: 3 }), /no map 'nope'/);
});
