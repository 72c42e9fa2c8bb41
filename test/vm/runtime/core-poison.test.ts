// CO-RE relocations the target BTF cannot satisfy poison their instruction (libbpf's rule): the
// VM loads the program and faults, with the relocation's error, only if a poisoned instruction
// runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  CORE_POISON_CALL,
  CORE_POISON_LDDW,
  CoreRelocationError,
  encodeBtf,
  parseBtf,
  type Btf,
  type EncodableType,
} from "../../../src/btf/index.js";
import { ProgramBuilder, R0 } from "../../../src/isa/builder.js";
import { slotIndexes } from "../../../src/isa/instruction.js";
import { loadObjectFile } from "../../../src/object/index.js";
import { Interpreter, VmFault } from "../../../src/vm/index.js";
import { VmRuntime } from "../../../src/vm/runtime/index.js";
import { repoRoot } from "../../helpers/shared.js";

const spec = () => loadObjectFile(join(repoRoot, "bpf/lang/core_reads.bpf.o"));

/** The object's own BTF as a target, without task_struct.tgid or enum bpf_map_type's RINGBUF. */
function targetWithout(btf: Btf, what: "field" | "enumerator"): Btf {
  const types: EncodableType[] = [];
  for (const t of btf.types()) {
    if (what === "field" && t.kind === "struct" && t.name === "task_struct")
      types.push({
        ...t,
        members: t.members.map((m) => (m.name === "tgid" ? { ...m, name: "tgid_gone" } : m)),
      });
    else if (what === "enumerator" && t.kind === "enum" && t.name === "bpf_map_type")
      types.push({ ...t, values: t.values.filter((v) => v.name !== "BPF_MAP_TYPE_RINGBUF") });
    else types.push(t as EncodableType);
  }
  return parseBtf(encodeBtf(types));
}

function faultOf(fn: () => unknown): VmFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof VmFault) return e;
    throw e;
  }
  throw new Error("expected a VmFault");
}

test("a poisoned field read loads, and faults when it runs with the relocation's error", () => {
  const s = spec();
  const rt = new VmRuntime({ targetBtf: targetWithout(s.btf!, "field"), cpus: 1 });
  const p = rt.loadObject(s).program("core_reads"); // not refused at load
  const f = faultOf(() => p.testRun({ ctxIn: new Uint8Array(16) }));
  assert.equal(f.kind, "poisoned");
  assert.ok(f.cause instanceof CoreRelocationError);
  assert.ok(f.message.endsWith(f.cause.message), f.message);
  for (const part of [
    "prog 'core_reads'",
    "<byte_off>",
    'core_reads.bpf.c:27 "parent_tgid = BPF_CORE_READ(task, real_parent, tgid);',
    "struct task_struct.tgid: no field 'tgid' in struct task_struct",
  ])
    assert.ok(f.message.includes(part), `${f.message}\n  lacks ${part}`);
  assert.ok(!/0xbad2310|195896080/.test(f.message), "no magic constant");
  assert.deepEqual(p.instructions[slotIndexes(p.instructions).indexOf(f.pc)], CORE_POISON_CALL);
});

test("a poisoned enumerator value (lddw into r10) faults with its error, not as a write to r10", () => {
  const s = spec();
  const rt = new VmRuntime({ targetBtf: targetWithout(s.btf!, "enumerator"), cpus: 1 });
  const f = faultOf(() =>
    rt
      .loadObject(s)
      .program("core_reads")
      .testRun({ ctxIn: new Uint8Array(16) }),
  );
  assert.equal(f.kind, "poisoned");
  assert.match(
    f.message,
    /<enumval_value>.*enum bpf_map_type::BPF_MAP_TYPE_RINGBUF: no enumerator 'BPF_MAP_TYPE_RINGBUF'/,
  );
});

test("poisoned instructions that never run do not fault", () => {
  const error = new Error("poisoned: field x missing");
  const program = new ProgramBuilder()
    .mov(R0, 7)
    .ja("out")
    .raw(CORE_POISON_CALL, CORE_POISON_LDDW)
    .label("out")
    .exit()
    .build();
  const poisoned = (i: number) => (i === 2 || i === 3 ? error : undefined);
  assert.equal(new Interpreter(program, { poisoned }).run().r0, 7n);
  assert.throws(() => new Interpreter(program), /unknown helper id 195896080/, "unmarked: refused at load");
  const reached = new ProgramBuilder().mov(R0, 7).raw(CORE_POISON_LDDW).exit().build();
  const f = faultOf(() => new Interpreter(reached, { poisoned: (i) => (i === 1 ? error : undefined) }).run());
  assert.equal(f.kind, "poisoned");
  assert.equal(f.cause, error);
  assert.equal(f.message, "pc 1: poisoned: field x missing");
});
