// The guide's custom program type (../shared/guides/004): a context of one u32, a program that
// adds 42 to it, attached to a hook the host fires.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgramBuilder, R0, R1, R6, R7, R10 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import { defineProgramType } from "../../../src/vm/program-types/index.js";
import { ContextAccessError, VmRuntime } from "../../../src/vm/runtime/index.js";

const oreore = defineProgramType({
  name: "oreore",
  context: { size: 4, fields: [{ name: "value", offset: 0, size: 4, access: "read" }] },
  describeReturn: (r) => `answer ${r}`,
});

const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

test("guide: a custom type, a hook, load u32 + 42", () => {
  const add42 = new ProgramBuilder().ldx(Size.W, R0, R1, 0).add32(R0, 42).exit().build();
  const rt = new VmRuntime();
  const prog = rt.loadProgram(add42, { type: oreore, name: "add42" });
  const hook = rt.hook("oreore_write", oreore);
  const link = hook.attach(prog);
  assert.deepEqual(hook.fire(u32(100)), [{ program: "add42", retval: 142 }]);
  assert.equal(prog.run(u32(0xffffffff)), 41); // 32-bit add wraps
  assert.equal(oreore.describeReturn(142), "answer 142");
  link.detach();
  assert.deepEqual(hook.fire(u32(100)), []);
});

test("guide: reading past the u32 is refused at load, naming the access", () => {
  const bad = new ProgramBuilder().ldx(Size.W, R0, R1, 4).add32(R0, 42).exit().build();
  const rt = new VmRuntime();
  assert.throws(
    () => rt.loadProgram(bad, { type: oreore, name: "bad" }),
    (e: unknown) =>
      e instanceof ContextAccessError &&
      /bad: pc 0: invalid context access: read of 4 bytes at offset 4 of oreore context; allowed: read u32 value at 0/.test(
        e.message,
      ),
  );
});

test("custom type: wrong sizes, writes to read-only fields and copies of r1 are checked", () => {
  const rt = new VmRuntime();
  const narrow = new ProgramBuilder().ldx(Size.B, R0, R1, 0).exit().build();
  assert.throws(() => rt.loadProgram(narrow, { type: oreore }), /read of 1 byte at offset 0/);
  const write = new ProgramBuilder().st(Size.W, R1, 0, 7).mov(R0, 0).exit().build();
  assert.throws(() => rt.loadProgram(write, { type: oreore }), /write of 4 bytes at offset 0/);
  // the context copied to r6 and spilled to the stack is still the context
  const copied = new ProgramBuilder()
    .mov(R6, R1)
    .stx(Size.DW, R10, R6, -8)
    .ldx(Size.DW, R7, R10, -8)
    .ldx(Size.W, R0, R7, 8)
    .exit()
    .build();
  assert.throws(() => rt.loadProgram(copied, { type: oreore }), /offset 8/);
  // a moved context pointer is refused like the kernel's "dereference of modified ctx ptr"
  const moved = new ProgramBuilder().add(R1, 4).ldx(Size.W, R0, R1, 0).exit().build();
  assert.throws(() => rt.loadProgram(moved, { type: oreore }), /modified oreore context pointer/);
});

test("custom type: helpers not declared by the type are refused at load with name and id", () => {
  const rt = new VmRuntime();
  const prog = new ProgramBuilder().call(5).exit().build(); // bpf_ktime_get_ns
  assert.throws(
    () => rt.loadProgram(prog, { type: oreore }),
    /helper bpf_ktime_get_ns \(id 5\) is not available to oreore programs/,
  );
  const unknown = new ProgramBuilder().call(9999).exit().build();
  assert.throws(() => rt.loadProgram(unknown, { type: oreore }), /unknown helper id 9999/);
  const timed = defineProgramType({
    ...{ name: "timed", context: { size: 8, fields: [] } },
    helpers: ["bpf_ktime_get_ns"],
  });
  assert.ok(rt.loadProgram(prog, { type: timed }).run() > 0);
});
