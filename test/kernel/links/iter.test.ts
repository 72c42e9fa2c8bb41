import assert from "node:assert/strict";
import { loadKernelBtf } from "../../../src/btf/index.js";
import { ProgramBuilder, R0, R1, R2, R3, R6, R7, R10 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import { attachIter, kernelBtfId } from "../../../src/kernel/links/index.js";
import { KernelProgram } from "../../../src/kernel/program.js";
import { AttachType, LinkType } from "../../../src/kernel/sys/index.js";
import { describeKernel, kernelTest, uniqueName } from "../../helpers/kernel-gate.js";

/** Offset of task_struct.tgid (the process id) from the kernel's BTF. */
function taskTgidOffset(): number {
  const task = loadKernelBtf().typeByName("task_struct", "struct")!;
  const pid = task.members.find((m) => m.name === "tgid")!;
  return pid.bitOffset / 8;
}

/** An iter/task program writing each task's process id (tgid) (u32) with bpf_seq_write. */
function taskPidsProgram(): KernelProgram {
  const insns = new ProgramBuilder()
    .mov(R6, R1)
    .ldx(Size.DW, R7, R6, 8) // ctx->task
    .jeq(R7, 0, "out")
    .ldx(Size.W, R3, R7, taskTgidOffset())
    .stx(Size.W, R10, R3, -4)
    .ldx(Size.DW, R1, R6, 0) // ctx->meta
    .ldx(Size.DW, R1, R1, 0) // meta->seq
    .mov(R2, R10)
    .add(R2, -4)
    .mov(R3, 4)
    .call(127) // bpf_seq_write
    .label("out")
    .mov(R0, 0)
    .exit()
    .build();
  return KernelProgram.load({
    type: "tracing",
    expectedAttachType: AttachType.TRACE_ITER,
    attachBtfId: kernelBtfId(AttachType.TRACE_ITER, "task"),
    insns,
    license: "GPL",
    name: uniqueName("itask"),
  });
}

const pids = (bytes: Uint8Array): number[] => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getUint32(i * 4, true));
};

describeKernel("iterators", () => {
  kernelTest("iter/task: the output contains our pid and other processes'", async () => {
    using prog = taskPidsProgram();
    using link = attachIter(prog);
    const first = pids(link.readAll());
    assert.ok(first.includes(process.pid), "our pid is listed");
    assert.ok(new Set(first).size > 1, "other processes are listed");
    let streamed = 0;
    for await (const chunk of link) streamed += chunk.byteLength;
    assert.ok(streamed >= 8);
    const info = link.info();
    assert.equal(info.type, LinkType.ITER);
    assert.equal(info.details.target_name, "task");
  });

  kernelTest("iter/task restricted to one process (pid option)", () => {
    using prog = taskPidsProgram();
    using link = attachIter(prog, { pid: process.pid });
    const listed = pids(link.readAll());
    assert.ok(listed.length >= 1);
    assert.ok(
      listed.every((p) => p === process.pid),
      `only our process: ${listed.slice(0, 5).join(",")}`,
    );
  });
});
