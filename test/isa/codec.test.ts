import { test } from "node:test";
import assert from "node:assert/strict";
import { decode, encode, InvalidInstructionError } from "../../src/isa/codec.js";
import { lddwValue, splitImm64 } from "../../src/isa/instruction.js";

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((b) => parseInt(b, 16)),
  );

test("decode/encode round trip, lddw as one instruction", () => {
  const bytes = hex(
    "b7 01 00 00 2a 00 00 00  18 02 00 00 ef cd ab 89 00 00 00 00 67 45 23 01  95 00 00 00 00 00 00 00",
  );
  const prog = decode(bytes);
  assert.equal(prog.length, 3);
  assert.deepEqual(prog[0], { code: 0xb7, dst: 1, src: 0, off: 0, imm: 42 });
  assert.equal(lddwValue(prog[1]!), 0x0123456789abcdefn);
  assert.deepEqual(encode(prog), bytes);
});

test("splitImm64 is the inverse of lddwValue", () => {
  for (const v of [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x123456789abcdef0n]) {
    const { imm, imm2 } = splitImm64(v);
    assert.equal(lddwValue({ code: 0x18, dst: 0, src: 0, off: 0, imm, imm2 }), v);
  }
});

test("reserved fields must be zero, with the offset named", () => {
  // add64 imm with a non-zero offset (conformance negative/unused-add64_imm-offset)
  assert.throws(
    () => decode(hex("95 00 00 00 00 00 00 00 07 00 01 00 01 00 00 00")),
    (e: unknown) => e instanceof InvalidInstructionError && e.offset === 8 && /off must be 0/.test(e.message),
  );
  assert.throws(() => decode(hex("18 01 00 00 01 00 00 00")), /truncated lddw/);
  assert.throws(() => decode(hex("ff 00 00 00 00 00 00 00")), /unknown opcode 0xff/);
  assert.throws(() => decode(hex("95 00 00")), /not a multiple of 8/);
  assert.throws(() => decode(hex("bf b0 00 00 00 00 00 00")), /invalid register r11/);
});

test("kernel additions decode: sdiv, movsx, gotol, may_goto, kfunc call, load-acquire", () => {
  const prog = decode(
    hex(
      [
        "3f 21 01 00 00 00 00 00", // sdiv r1, r2
        "bf 21 20 00 00 00 00 00", // movsx r1, (s32) r2
        "06 00 00 00 00 00 00 00", // gotol +0
        "e5 00 00 00 00 00 00 00", // may_goto +0
        "85 20 01 00 05 00 00 00", // kfunc call with module fd index 1
        "db 21 00 00 00 01 00 00", // load_acquire dw
        "95 00 00 00 00 00 00 00",
      ].join(" "),
    ),
  );
  assert.equal(prog.length, 7);
});
