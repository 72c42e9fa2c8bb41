import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeAttrs, encodeMessage, parseError } from "../../../src/kernel/links/netlink.js";

test("netlink attributes: 4-byte padding, strings NUL-terminated, nested flag", () => {
  const bytes = encodeAttrs([
    { type: 1, str: "bpf" },
    { type: 2, nested: [{ type: 6, u32: 9 }] },
  ]);
  assert.deepEqual([...bytes], [8, 0, 1, 0, 0x62, 0x70, 0x66, 0, 12, 0, 2, 0x80, 8, 0, 6, 0, 9, 0, 0, 0]);
  const msg = encodeMessage(44, 0x605, 7, new Uint8Array(20), []);
  const v = new DataView(msg.buffer);
  assert.equal(v.getUint32(0, true), 36);
  assert.equal(v.getUint16(4, true), 44);
  assert.equal(v.getUint16(6, true), 0x605);
  assert.equal(v.getUint32(8, true), 7);
});

test("NLMSG_ERROR: errno and the extended ack message", () => {
  const inner = encodeMessage(44, 5, 3, new Uint8Array(20), []);
  const tlv = encodeAttrs([{ type: 1, str: "Exclusivity flag on, cannot modify." }]);
  const body = Buffer.concat([Buffer.from(Int32Array.of(-17).buffer), inner, tlv]);
  const msg = encodeMessage(2, 0x200 /* NLM_F_ACK_TLVS */, 3, body, []);
  assert.deepEqual(parseError(msg), { errno: 17, extAck: "Exclusivity flag on, cannot modify." });
  assert.deepEqual(parseError(encodeMessage(2, 0, 3, Buffer.from(Int32Array.of(0).buffer), [])), {
    errno: 0,
  });
});
