import assert from "node:assert/strict";
import { test } from "node:test";
import { bpftoolTypeName, encodeBtf, parseBtf, type EncodableType } from "../../src/btf/index.js";
import { FormatError } from "../../src/errors.js";

// ids:          1 int, 2 char, 3 struct xdp_md, 4 ptr->3, 5 const char, 6 ptr->5, 7 char[16],
//               8 proto int(struct xdp_md *ctx), 9 FUNC f, 10 proto void *(const char *, ...),
//               11 FUNC g, 12 typedef u32 = int, 13 proto u32(u32 x, char (*)[16])  14 ptr->7, 15 FUNC h
const types: EncodableType[] = [
  { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
  { kind: "int", name: "char", size: 1, encoding: 1, bitOffset: 0, bits: 8 },
  { kind: "struct", name: "xdp_md", size: 0, members: [] },
  { kind: "ptr", name: "", targetId: 3 },
  { kind: "const", name: "", targetId: 2 },
  { kind: "ptr", name: "", targetId: 5 },
  { kind: "array", name: "", elementId: 2, indexId: 1, length: 16 },
  { kind: "func_proto", name: "", returnId: 1, params: [{ name: "ctx", typeId: 4 }] },
  { kind: "func", name: "f", protoId: 8, linkage: "global" },
  {
    kind: "func_proto",
    name: "",
    returnId: 16,
    params: [
      { name: "", typeId: 6 },
      { name: "", typeId: 0 },
    ],
  },
  { kind: "func", name: "g", protoId: 10, linkage: "static" },
  { kind: "typedef", name: "u32", targetId: 1 },
  {
    kind: "func_proto",
    name: "",
    returnId: 12,
    params: [
      { name: "x", typeId: 12 },
      { name: "buf", typeId: 14 },
    ],
  },
  { kind: "ptr", name: "", targetId: 7 },
  { kind: "func", name: "h", protoId: 13, linkage: "global" },
  { kind: "ptr", name: "", targetId: 0 },
];

test("bpftoolTypeName prints prototypes as bpftool's prog dump (btf_dumper_type_only)", () => {
  const btf = parseBtf(encodeBtf(types));
  assert.equal(bpftoolTypeName(btf, 9), "int f(struct xdp_md * ctx)");
  // unnamed parameters lose their trailing blank; a last void parameter is "..."
  assert.equal(bpftoolTypeName(btf, 11), "void * g(const char *, ...)");
  assert.equal(bpftoolTypeName(btf, 15), "u32 h(u32 x, char [16]* buf)");
  assert.equal(bpftoolTypeName(btf, 6), "const char *");
  assert.equal(bpftoolTypeName(btf, 0), "void");
});

test("bpftoolTypeName: a reference loop is a FormatError, not a stack overflow", () => {
  const loop: EncodableType[] = [
    { kind: "ptr", name: "", targetId: 2 },
    { kind: "const", name: "", targetId: 1 },
  ];
  assert.throws(() => bpftoolTypeName(parseBtf(encodeBtf(loop)), 1), FormatError);
});
