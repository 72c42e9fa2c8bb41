import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  LAYOUTS,
  decodeStruct,
  encodeStruct,
  MAP_ELEM_ATTR,
  PROG_LOAD_ATTR,
} from "../../src/kernel/sys/index.js";

// Offsets and sizes the C compiler computed from the Linux 6.18 headers (gen-uapi-offsets.ts).
const expected = JSON.parse(
  // The compiled test lives in dist/test: the fixture stays in the source tree.
  readFileSync(
    new URL("fixtures/uapi-offsets.json", import.meta.url.replace("/dist/test/", "/test/")),
    "utf8",
  ),
) as Record<string, Record<string, [number, number]>>;

test("every bpf_attr and info layout matches the kernel header field by field", () => {
  let checked = 0;
  for (const [name, { layout }] of Object.entries(LAYOUTS)) {
    const fields = expected[name];
    assert.ok(fields, `fixture has no ${name}`);
    assert.deepEqual(Object.keys(layout.fields).sort(), Object.keys(fields).sort(), `${name}: field set`);
    for (const [field, spec] of Object.entries(layout.fields)) {
      assert.deepEqual([spec.offset, spec.size], fields[field], `${name}.${field}`);
      checked++;
    }
  }
  assert.ok(checked > 300);
});

test("encode writes fields at their offsets and decode reads them back", () => {
  const attr = encodeStruct(MAP_ELEM_ATTR, { map_fd: 7, key: 0x1122334455667788n, value: 5n, flags: 2 });
  assert.equal(attr.byteLength, 32);
  assert.deepEqual([...attr.subarray(0, 4)], [7, 0, 0, 0]);
  assert.deepEqual([...attr.subarray(8, 16)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  const back = decodeStruct(MAP_ELEM_ATTR, attr);
  assert.equal(back.map_fd, 7);
  assert.equal(back.next_key, 5n, "union members share their offset");
  assert.equal(back.flags, 2n);
});

test("char arrays keep their terminating NUL and unknown fields are refused", () => {
  const attr = encodeStruct(PROG_LOAD_ATTR, { prog_name: "a_name_longer_than_fifteen" });
  const name = attr.subarray(
    PROG_LOAD_ATTR.fields.prog_name.offset,
    PROG_LOAD_ATTR.fields.prog_name.offset + 16,
  );
  assert.equal(name[15], 0);
  assert.equal(decodeStruct(PROG_LOAD_ATTR, attr).prog_name, "a_name_longer_t");
  assert.throws(() => encodeStruct(PROG_LOAD_ATTR, { nope: 1 }), /prog_load: no field 'nope'/);
});
