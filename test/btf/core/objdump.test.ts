import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CoreReloKind,
  describeCoreRelo,
  encodeBtf,
  parseBtf,
  type EncodableType,
} from "../../../src/btf/index.js";

// 1 int, 2 struct foo {int a; int b;}, 3 struct bar {int u; struct foo v[7];}, 4 foo[7],
// 5 enum e {U = 1, V = -2} (signed), 6 const struct bar, 7 typedef bar_t = struct bar
const types: EncodableType[] = [
  { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
  {
    kind: "struct",
    name: "foo",
    size: 8,
    members: [
      { name: "a", typeId: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "b", typeId: 1, bitOffset: 32, bitfieldSize: 0 },
    ],
  },
  {
    kind: "struct",
    name: "bar",
    size: 60,
    members: [
      { name: "u", typeId: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: "", typeId: 4, bitOffset: 32, bitfieldSize: 0 },
    ],
  },
  { kind: "array", name: "", elementId: 2, indexId: 1, length: 7 },
  {
    kind: "enum",
    name: "e",
    size: 4,
    kindFlag: true,
    values: [
      { name: "U", value: 1 },
      { name: "V", value: -2 },
    ],
  },
  { kind: "const", name: "", targetId: 3 },
  { kind: "typedef", name: "bar_t", targetId: 3 },
];

test("describeCoreRelo prints LLVM's descriptions (llvm-objdump -dr)", () => {
  const btf = parseBtf(encodeBtf(types));
  const d = (kind: CoreReloKind, typeId: number, accessStr: string): string =>
    describeCoreRelo(btf, { insnOff: 0, typeId, accessStr, accessStrOff: 0, kind });
  assert.equal(
    d(CoreReloKind.FieldByteOffset, 3, "0:1:2:1"),
    "<byte_off> [3] struct bar::<anon 1>[2].b (0:1:2:1)",
  );
  assert.equal(d(CoreReloKind.FieldExists, 3, "7:0"), "<field_exists> [3] struct bar::[7].u (7:0)");
  assert.equal(d(CoreReloKind.FieldByteSize, 6, "0:0"), "<byte_sz> [6] const struct bar::u (0:0)");
  assert.equal(d(CoreReloKind.FieldSigned, 7, "0:0"), "<signed> [7] typedef bar_t::u (0:0)");
  assert.equal(d(CoreReloKind.TypeExists, 2, "0"), "<type_exists> [2] struct foo");
  assert.equal(d(CoreReloKind.EnumvalValue, 5, "1"), "<enumval_value> [5] enum e::V = -2");
  // access strings that do not fit the types
  assert.equal(
    d(CoreReloKind.FieldByteOffset, 2, "0:5"),
    "<byte_off> [2] '0:5' <member index 5 for spec sub-string 1 is out of range>",
  );
  assert.equal(
    d(CoreReloKind.TypeSize, 2, "0:1"),
    "<type_size> [2] '0:1' <unexpected type-based relocation spec: should be '0'>",
  );
  assert.equal(d(CoreReloKind.FieldByteOffset, 99, "0"), "<byte_off> [99] '0' <unknown type id: 99>");
  assert.equal(
    d(CoreReloKind.FieldByteOffset, 1, "0:x"),
    "<byte_off> [1] '0:x' <spec string is not a number>",
  );
  assert.equal(
    d(CoreReloKind.FieldByteOffset, 1, "0:0"),
    "<byte_off> [1] '0:0' <unexpected type kind 1 for spec sub-string 1>",
  );
});
