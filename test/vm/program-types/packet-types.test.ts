// XDP and skb program types: context conversion of the 32-bit packet pointers, field values of
// test runs, the XDP adjust helpers' limits, and accesses the kernel's verifier would refuse.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ProgramBuilder, R0, R1, R2, R3, R6 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import {
  cgroupSkb,
  schedCls,
  socketFilter,
  TestRunInputError,
  xdp,
} from "../../../src/vm/program-types/index.js";
import { ContextAccessError, VmRuntime } from "../../../src/vm/runtime/index.js";

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["../../..", "../../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;
const udp = new Uint8Array(readFileSync(`${root}bpf/testdata/eth-ipv4-udp.bin`)); // 60 bytes
const arp = new Uint8Array(readFileSync(`${root}bpf/testdata/eth-arp-request.bin`));

/** r0 = data_end - data (both read as the 32-bit ctx fields at `dataOff` and `endOff`). */
const length = (dataOff: number, endOff: number) =>
  new ProgramBuilder()
    .ldx(Size.W, R2, R1, dataOff)
    .ldx(Size.W, R3, R1, endOff)
    .mov(R0, R3)
    .sub(R0, R2)
    .exit()
    .build();
const field = (off: number, size = Size.W) => new ProgramBuilder().ldx(size, R0, R1, off).exit().build();

test("xdp: ctx->data and ctx->data_end are packet pointers (loads rewritten at load)", () => {
  const rt = new VmRuntime();
  const p = rt.loadProgram(length(0, 4), { type: xdp });
  assert.equal(p.testRun({ dataIn: udp }).retval, 60);
  assert.notDeepEqual(p.instructions, length(0, 4)); // the two ldxw became ldxdw of pointer slots
  assert.equal(rt.loadProgram(field(12), { type: xdp }).testRun({ dataIn: udp }).retval, 1); // ingress_ifindex: lo
  assert.equal(xdp.describeReturn(2), "XDP_PASS (2)");
});

test("xdp: invalid ctx accesses are refused at load", () => {
  const rt = new VmRuntime();
  assert.throws(() => rt.loadProgram(field(0, Size.H), { type: xdp }), ContextAccessError);
  assert.throws(
    () => rt.loadProgram(field(24), { type: xdp }),
    /read of 4 bytes at offset 24 of struct xdp_md/,
  );
  const write = new ProgramBuilder().st(Size.W, R1, 12, 3).mov(R0, 2).exit().build();
  assert.throws(() => rt.loadProgram(write, { type: xdp }), /write of 4 bytes at offset 12/);
});

test("xdp: adjust_head/tail/meta move the pointers within the kernel's limits", () => {
  const rt = new VmRuntime();
  const adjust = (id: number, delta: number) =>
    new ProgramBuilder()
      .mov(R6, R1)
      .mov(R2, delta)
      .call(id)
      .jne(R0, 0, "fail")
      .ldx(Size.W, R2, R6, 0)
      .ldx(Size.W, R3, R6, 4)
      .mov(R0, R3)
      .sub(R0, R2)
      .exit()
      .label("fail")
      .exit()
      .build();
  const run = (id: number, delta: number) =>
    rt.loadProgram(adjust(id, delta), { type: xdp }).testRun({ dataIn: udp });
  const head = run(44, -4);
  assert.equal(head.retval, 64);
  assert.equal(Buffer.from(head.dataOut!.subarray(4)).toString("hex"), Buffer.from(udp).toString("hex"));
  assert.equal(run(44, 46).retval, 14); // an Ethernet header must remain
  assert.equal(run(44, 47).retval | 0, -22);
  assert.equal(run(44, -(256 - 40)).retval, 60 + 216); // down to the xdp_frame reserve
  assert.equal(run(44, -(256 - 39)).retval | 0, -22); // into it: -EINVAL
  assert.equal(run(65, -46).retval, 14); // tail: keep the Ethernet header
  assert.equal(run(65, -47).retval | 0, -22);
  assert.equal(run(65, 4096 - 256 - 320 - 60).retval, 4096 - 256 - 320);
  assert.equal(run(65, 4096 - 256 - 320 - 59).retval | 0, -22);
  assert.equal(run(54, -32).retval, 60); // 32 bytes of metadata: allowed
  assert.equal(run(54, -36).retval | 0, -13); // -EACCES
  assert.equal(run(54, -2).retval | 0, -13); // not a multiple of 4
});

test("xdp: test-run input checks", () => {
  const p = new VmRuntime().loadProgram(length(0, 4), { type: xdp });
  assert.throws(() => p.testRun({}), TestRunInputError);
  assert.throws(() => p.testRun({ dataIn: udp.subarray(0, 13) }), /less than an Ethernet header/);
  const ctx = new Uint8Array(24);
  new DataView(ctx.buffer).setUint32(0, 4, true); // 4 bytes of metadata
  new DataView(ctx.buffer).setUint32(4, 60, true);
  const r = p.testRun({ dataIn: udp, ctxIn: ctx });
  assert.equal(r.retval, 56);
  assert.equal(r.dataOut!.length, 60); // data_out starts at data_meta
});

test("skb types: len, protocol and pkt_type as bpf_prog_test_run_skb sets them", () => {
  const rt = new VmRuntime();
  assert.equal(rt.loadProgram(field(0), { type: schedCls }).testRun({ dataIn: udp }).retval, 60); // L2
  assert.equal(rt.loadProgram(field(0), { type: socketFilter }).testRun({ dataIn: udp }).retval, 46); // L3
  assert.equal(rt.loadProgram(field(16), { type: socketFilter }).testRun({ dataIn: udp }).retval, 0x0008); // htons(ETH_P_IP)
  assert.equal(rt.loadProgram(field(4), { type: schedCls }).testRun({ dataIn: udp }).retval, 3); // PACKET_OTHERHOST
  assert.equal(rt.loadProgram(field(4), { type: schedCls }).testRun({ dataIn: arp }).retval, 1); // PACKET_BROADCAST
  assert.equal(
    rt.loadProgram(field(16, Size.B), { type: socketFilter }).testRun({ dataIn: udp }).retval,
    0x08,
  ); // narrow read
  assert.equal(rt.loadProgram(length(76, 80), { type: schedCls }).testRun({ dataIn: udp }).retval, 60);
  assert.equal(rt.loadProgram(length(76, 80), { type: cgroupSkb }).testRun({ dataIn: udp }).retval, 46);
  // data out of non-L2 types has the Ethernet header zeroed, as the kernel pushes an empty one
  const out = rt.loadProgram(field(0), { type: socketFilter }).testRun({ dataIn: udp }).dataOut!;
  assert.deepEqual([...out.subarray(0, 14)], new Array(14).fill(0));
  assert.deepEqual([...out.subarray(14)], [...udp.subarray(14)]);
});

test("skb types: socket filters may not read data/data_end; ctx_in only sets the kernel's fields", () => {
  const rt = new VmRuntime();
  assert.throws(
    () => rt.loadProgram(length(76, 80), { type: socketFilter }),
    /read of 4 bytes at offset 76 of struct __sk_buff/,
  );
  const markProg = rt.loadProgram(field(8), { type: schedCls });
  const ctx = new Uint8Array(192);
  new DataView(ctx.buffer).setUint32(8, 0x42, true);
  assert.equal(markProg.testRun({ dataIn: udp, ctxIn: ctx }).retval, 0x42);
  new DataView(ctx.buffer).setUint32(0, 5, true); // len is not settable
  assert.throws(() => markProg.testRun({ dataIn: udp, ctxIn: ctx }), /ctx_in sets __sk_buff byte 0/);
  const write = new ProgramBuilder().st(Size.W, R1, 8, 7).ldx(Size.W, R0, R1, 8).exit().build();
  assert.equal(rt.loadProgram(write, { type: schedCls }).testRun({ dataIn: udp }).retval, 7);
  assert.throws(() => rt.loadProgram(write, { type: socketFilter }), /write of 4 bytes at offset 8/);
});

test("xdp: each run gets a fresh zeroed frame, though the VM reuses its regions", () => {
  const rt = new VmRuntime();
  // r0 = the byte 16 bytes before data (headroom), then store 0xff there
  const p = rt.loadProgram(
    new ProgramBuilder()
      .mov(R6, R1)
      .mov(R2, -16)
      .call(44) // bpf_xdp_adjust_head
      .ldx(Size.W, R2, R6, 0)
      .ldx(Size.W, R3, R6, 4)
      .mov(R0, R2)
      .add(R0, 1)
      .jgt(R0, R3, "out")
      .ldx(Size.B, R0, R2, 0)
      .st(Size.B, R2, 0, 0xff)
      .label("out")
      .exit()
      .build(),
    { type: xdp },
  );
  const first = p.testRun({ dataIn: udp });
  assert.equal(first.retval, 0);
  assert.equal(first.dataOut![0], 0xff, "the store happened");
  assert.equal(p.testRun({ dataIn: udp }).retval, 0, "the next run does not see it");
  assert.equal(p.testRun({ dataIn: arp }).retval, 0);
});
