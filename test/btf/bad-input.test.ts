import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError } from "../../src/errors.js";
import {
  alignof,
  dumpC,
  dumpRaw,
  encodeBtf,
  parseBtf,
  parseBtfExt,
  resolveTypedefs,
  sizeof,
  skipModifiers,
  type Btf,
  type EncodableType,
} from "../../src/btf/index.js";
import { benchObjects, elfSection } from "./fixtures.js";

const isFormatError = (re: RegExp, offset?: number) => (e: unknown) =>
  e instanceof FormatError &&
  e.file === "bad.btf" &&
  re.test(e.message) &&
  (offset === undefined || e.offset === offset);

const good = (): Uint8Array =>
  encodeBtf([
    { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    { kind: "ptr", targetId: 1 },
  ]);

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  new DataView(copy.buffer).setUint32(at, value >>> 0, true);
  return copy;
}
const parse = (b: Uint8Array) => parseBtf(b, { file: "bad.btf" });

test("header: truncated, bad magic, version, section bounds", () => {
  assert.throws(() => parse(good().subarray(0, 10)), isFormatError(/truncated BTF header/, 0));
  assert.throws(
    () => parse(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, ...new Array<number>(30).fill(0))),
    isFormatError(/bad BTF magic 0x457f/, 0),
  );
  const v2 = new Uint8Array(good());
  v2[2] = 2;
  assert.throws(() => parse(v2), isFormatError(/unsupported BTF version 2/, 2));
  assert.throws(() => parse(patch(good(), 4, 0xffff)), isFormatError(/bad BTF header length/, 4));
  assert.throws(() => parse(patch(good(), 12, 0xfffffff0)), isFormatError(/type section .* past the end/, 8));
  assert.throws(() => parse(patch(good(), 20, 1 << 30)), isFormatError(/string section .* past the end/, 16));
  assert.throws(() => parse(good().subarray(0, good().length - 1)), isFormatError(/past the end/));
});

test("type section: unknown kind, record past the end, over-large vlen", () => {
  // type 1 at offset 24: info at 28
  assert.throws(
    () => parse(patch(good(), 28, 25 << 24)),
    isFormatError(/unknown BTF kind 25 \(type id 1\)/, 28),
  );
  // a struct claiming 65535 members in a 40-byte section
  assert.throws(
    () => parse(patch(good(), 28, (4 << 24) | 0xffff)),
    isFormatError(/STRUCT record of 786432 bytes past the end/, 24),
  );
});

test("strings: offsets out of range, unterminated table", () => {
  assert.throws(
    () => parse(patch(good(), 24, 5000)),
    isFormatError(/name offset 5000 of type id 1 out of range/, 24),
  );
  const b = new Uint8Array(good());
  b[b.length - 1] = 0x41;
  assert.throws(() => parse(b), isFormatError(/string section does not end with NUL/));
});

test("type ids out of range: named with the offset of the reference", () => {
  // PTR (type 2) at offset 24+16=40; its target at 48
  const btf = parse(patch(good(), 48, 999));
  assert.throws(
    () => btf.typeById(2),
    isFormatError(/reference to type id 999 out of range \(3 types\)/, 48),
  );
  assert.throws(() => btf.typeById(3), FormatError);
  assert.throws(() => btf.typeById(-1), FormatError);
  assert.throws(() => dumpC(btf), isFormatError(/out of range/));
});

function loopy(): Btf {
  const types: EncodableType[] = [
    /* 1 */ { kind: "typedef", name: "a", targetId: 2 },
    /* 2 */ { kind: "const", targetId: 1 },
    /* 3 */ { kind: "ptr", targetId: 3 },
    /* 4 */ { kind: "array", elementId: 4, indexId: 4, length: 2 },
    /* 5 */ { kind: "struct", name: "huge", size: 0xffffffff, members: [] },
    /* 6 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    /* 7 */ { kind: "array", elementId: 6, indexId: 6, length: 0xffffffff },
    /* 8 */ { kind: "array", elementId: 7, indexId: 6, length: 0xffffffff },
    /* 9 */ { kind: "volatile", targetId: 10 },
    /* 10 */ { kind: "const", targetId: 9 },
  ];
  return parseBtf(encodeBtf(types), { file: "bad.btf" });
}

test("reference loops: sizeof, resolve, alignof, dumps end in FormatError", () => {
  const btf = loopy();
  for (const f of [sizeof, alignof, resolveTypedefs]) {
    assert.throws(() => f(btf.typeById(1)), isFormatError(/reference chain longer than 32/));
  }
  assert.equal(skipModifiers(btf.typeById(2)).name, "a"); // const -> typedef stops at the typedef
  assert.throws(() => skipModifiers(btf.typeById(9)), isFormatError(/reference chain/));
  assert.equal(sizeof(btf.typeById(3)), 8); // a pointer to itself is fine
  assert.throws(() => sizeof(btf.typeById(4)), isFormatError(/reference chain|too large/));
  assert.throws(() => sizeof(btf.typeById(8)), isFormatError(/too large/));
  assert.ok(dumpRaw(btf).includes("[3] PTR '(anon)' type_id=3"));
  assert.throws(() => dumpC(btf, { rootIds: [1] }), isFormatError(/nested deeper|loop|cycle/));
  assert.throws(() => dumpC(btf, { rootIds: [5] }), isFormatError(/too large to print/));
});

test(".BTF.ext: type ids and strings out of range", () => {
  const path = benchObjects()[0]!;
  const btf = parseBtf(elfSection(path, ".BTF"));
  const ext = new Uint8Array(elfSection(path, ".BTF.ext"));
  const v = new DataView(ext.buffer);
  const hdrLen = v.getUint32(4, true);
  const funcOff = hdrLen + v.getUint32(8, true);
  // first func_info record: rec_size(4) sec_name_off(4) num_info(4) insn_off(4) type_id(4)
  v.setUint32(funcOff + 16, 123456, true);
  assert.throws(
    () => parseBtfExt(ext, btf, { file: "bad.btf" }),
    isFormatError(/type id 123456 out of range/, funcOff + 16),
  );
  v.setUint32(funcOff + 4, 0x7fffffff, true);
  assert.throws(
    () => parseBtfExt(ext, btf, { file: "bad.btf" }),
    isFormatError(/string offset 2147483647 out of range/, funcOff + 4),
  );
});
