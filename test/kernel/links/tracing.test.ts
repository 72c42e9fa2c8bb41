import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { after } from "node:test";
import { NotSupportedError } from "../../../src/errors.js";
import { ProgramBuilder, R0 } from "../../../src/isa/builder.js";
import { KernelProgram } from "../../../src/kernel/program.js";
import {
  RawLink,
  attachFentry,
  attachKprobe,
  attachKprobeMulti,
  attachPerfEvent,
  attachRawTracepoint,
  attachTpBtf,
  attachTracepoint,
  kernelBtfId,
  loadTracingProgram,
  openPinnedLink,
} from "../../../src/kernel/links/index.js";
import { ensureBpffs } from "../../../src/kernel/bpffs.js";
import { AttachType, LinkType } from "../../../src/kernel/sys/index.js";
import { PerfSwConfig, PerfType } from "../../../src/kernel/sys/perf-event-attr.js";
import { describeKernel, kernelTest, uniqueName } from "../../helpers/kernel-gate.js";
import { count, counterMap, countingProgram } from "./helpers.js";

const execTrue = (n: number): void => {
  for (let i = 0; i < n; i++) assert.equal(spawnSync("/bin/true").status, 0);
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until no link has this id, then a little more: the kernel detaches just after freeing the id. */
async function linkFreed(id: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ([...RawLink.ids()].includes(id)) {
    if (Date.now() > deadline) assert.fail(`link ${id} still exists 5 s after its pin was removed`);
    await sleep(10);
  }
  await sleep(20);
}

describeKernel("tracing links on the running kernel", () => {
  const map = counterMap();
  after(() => map.close());
  const reset = (): void => map.update(new Uint8Array(4), new Uint8Array(8));

  kernelTest("tracepoint sched/sched_process_exec counts execs, and stops counting when closed", () => {
    reset();
    using prog = countingProgram(map, { type: "tracepoint" });
    const link = attachTracepoint(prog, { group: "sched", name: "sched_process_exec" });
    try {
      execTrue(3);
      assert.ok(count(map) >= 3n, `count ${count(map)}`);
      const info = link.info();
      assert.equal(info.type, LinkType.PERF_EVENT);
      assert.equal(info.progId, prog.id);
    } finally {
      link.close();
    }
    link.close();
    assert.equal(link.closed, true);
    const before = count(map);
    execTrue(2);
    // Other processes may exec meanwhile, but not through a closed link.
    assert.equal(count(map), before);
  });

  kernelTest("tracepoint: unknown event names the tracefs path", () => {
    using prog = countingProgram(map, { type: "tracepoint" });
    assert.throws(
      () => attachTracepoint(prog, { group: "sched", name: "no_such_event" }),
      /sched\/no_such_event does not exist/,
    );
  });

  kernelTest("raw_tracepoint sched_process_exec, pinned and reopened", async () => {
    reset();
    ensureBpffs();
    const pin = `/sys/fs/bpf/${uniqueName("rawtp")}`;
    using prog = countingProgram(map, { type: "raw_tracepoint" });
    const link = attachRawTracepoint(prog, { name: "sched_process_exec" });
    const id = link.id;
    try {
      link.pin(pin);
      link.close();
      execTrue(2);
      assert.ok(count(map) >= 2n, "the pinned link keeps the program attached");
      using reopened = openPinnedLink(pin);
      assert.equal(reopened.kind, "raw_tracepoint");
      const info = reopened.info();
      assert.equal(info.details.tp_name, "sched_process_exec");
      assert.equal(info.progId, prog.id);
    } finally {
      link.close();
      rmSync(pin, { force: true });
    }
    // Unlinking the pin, its last reference, frees the link from a kernel work item after
    // unlink() returns: wait for that before checking that execs are no longer counted.
    await linkFreed(id);
    const before = count(map);
    execTrue(1);
    assert.equal(count(map), before, "unpinned and closed: detached");
  });

  kernelTest("tp_btf sched_process_exec (BTF-enabled tracepoint, no trampoline)", () => {
    reset();
    using prog = countingProgram(map, {
      type: "tracing",
      expectedAttachType: AttachType.TRACE_RAW_TP,
      attachBtfId: kernelBtfId(AttachType.TRACE_RAW_TP, "sched_process_exec"),
    });
    using link = attachTpBtf(prog);
    execTrue(2);
    assert.ok(count(map) >= 2n);
    assert.equal(link.info().type, LinkType.RAW_TRACEPOINT);
  });

  kernelTest("perf_event: software cpu-clock sampling on every CPU", async () => {
    reset();
    using prog = countingProgram(map, { type: "perf_event" });
    using link = attachPerfEvent(prog, {
      type: PerfType.SOFTWARE,
      config: PerfSwConfig.CPU_CLOCK,
      sampleFreq: 1000,
    });
    assert.ok(link.links.length >= 1);
    // Burn a little CPU so the clock ticks on this CPU.
    const end = Date.now() + 60;
    while (Date.now() < end) Math.sqrt(Math.random());
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(count(map) > 0n, "samples were taken");
    assert.equal(link.links[0]!.info().type, LinkType.PERF_EVENT);
  });

  kernelTest("kprobe on this kernel: NotSupportedError naming CONFIG_KPROBES", { lacks: ["kprobe"] }, () => {
    using prog = countingProgram(map, { type: "kprobe" });
    assert.throws(
      () => attachKprobe(prog, { symbol: "do_sys_openat2" }),
      (e: unknown) =>
        e instanceof NotSupportedError && /kernel built without kprobes \(CONFIG_KPROBES\)/.test(e.message),
    );
  });

  const multiProgram = (): KernelProgram =>
    countingProgram(map, { type: "kprobe", expectedAttachType: AttachType.TRACE_KPROBE_MULTI });

  kernelTest(
    "kprobe.multi without kprobes: NotSupportedError naming CONFIG_KPROBES",
    { lacks: ["kprobe"] },
    () => {
      using prog = multiProgram();
      assert.throws(
        () => attachKprobeMulti(prog, { symbols: ["do_sys_openat2"] }),
        (e: unknown) =>
          e instanceof NotSupportedError && e.feature === "kprobes" && /CONFIG_KPROBES/.test(e.message),
      );
    },
  );

  kernelTest(
    "kprobe.multi with kprobes but no fprobe: NotSupportedError naming CONFIG_FPROBE",
    { requires: ["kprobe"], lacks: ["kprobe-multi"] },
    () => {
      using prog = multiProgram();
      assert.throws(
        () => attachKprobeMulti(prog, { symbols: ["do_sys_openat2"] }),
        (e: unknown) => {
          assert.ok(e instanceof NotSupportedError, String(e));
          assert.equal(e.feature, "kprobe.multi");
          assert.match(e.message, /CONFIG_FPROBE/);
          assert.match(e.message, /5\.18/);
          assert.doesNotMatch(e.message, /socket/);
          return true;
        },
      );
    },
  );

  kernelTest(
    "fentry on this kernel: NotSupportedError naming BPF trampolines",
    { lacks: ["trampoline"] },
    () => {
      let prog: KernelProgram | undefined;
      try {
        prog = loadTracingProgram({
          type: "tracing",
          expectedAttachType: AttachType.TRACE_FENTRY,
          attachBtfId: kernelBtfId(AttachType.TRACE_FENTRY, "do_sys_openat2"),
          insns: new ProgramBuilder().mov(R0, 0).exit().build(),
          license: "GPL",
          name: uniqueName("fentry"),
        });
        // A kernel that loads it must refuse the attachment the same way (or accept it).
        attachFentry(prog).close();
        assert.fail("this kernel is documented to refuse BPF trampolines");
      } catch (e) {
        assert.ok(e instanceof NotSupportedError, String(e));
        assert.match(e.message, /BPF trampolines/);
        assert.equal(e.feature, "BPF trampolines");
      } finally {
        prog?.close();
      }
    },
  );

  kernelTest("RawLink.ids lists our link", () => {
    using prog = countingProgram(map, { type: "raw_tracepoint" });
    using link = attachRawTracepoint(prog, { name: "sched_process_exec" });
    assert.ok([...RawLink.ids()].includes(link.id));
    using again = RawLink.fromId(link.id);
    assert.equal(again.info().progId, prog.id);
  });
});
