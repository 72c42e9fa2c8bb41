/**
 * kprobes that really fire, on kernels that have them (the QEMU kernel matrix: Debian 6.1 and
 * 6.12; kprobe.multi on 6.12 only). Each program counts or records only this process's calls,
 * which the test makes itself with open(2) and close(2).
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { ProgramBuilder, R0, R1, R2, R6, R10 } from "../../../src/isa/builder.js";
import { AtomicOp, Size } from "../../../src/isa/opcodes.js";
import { attachProgram } from "../../../src/kernel/attach.js";
import { attachKprobe, attachKprobeMulti, attachKretprobe } from "../../../src/kernel/links/index.js";
import { KernelMap } from "../../../src/kernel/map.js";
import { KernelProgram } from "../../../src/kernel/program.js";
import { AttachType } from "../../../src/kernel/sys/index.js";
import { systemTracefs } from "../../../src/kernel/tracefs.js";
import { kernelTest, uniqueName } from "../../helpers/kernel-gate.js";

const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_GET_CURRENT_PID_TGID = 14;
/** bpf_get_current_pid_tgid() of this process's main thread (tid = pid), where the test makes its syscalls. */
const MAIN_THREAD = (BigInt(process.pid) << 32n) | BigInt(process.pid);
const BPF_GET_ATTACH_COOKIE = 174;
/** offsetof(struct pt_regs, ax) on x86-64: where a kretprobe finds the return value. */
const PT_REGS_AX = 80;

/** A u64 array map of `slots` slots. */
const slotsMap = (slots: number): KernelMap =>
  KernelMap.create({ type: "array", keySize: 4, valueSize: 8, maxEntries: slots, name: uniqueName("slots") });

const slot = (map: KernelMap, index: number): bigint => {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, index, true);
  const v = map.lookup(key)!;
  return new DataView(v.buffer, v.byteOffset).getBigInt64(0, true);
};

/**
 * r6 = ctx; exits with 0 unless the current thread is this process's main thread; then looks up the slot
 * whose index is in r0 (`key` sets it) and runs `use` with r0 = the slot, r6 = ctx.
 */
function forThisProcess(
  map: KernelMap,
  key: (b: ProgramBuilder) => ProgramBuilder,
  use: (b: ProgramBuilder) => ProgramBuilder,
): ProgramBuilder {
  let b = new ProgramBuilder()
    .mov(R6, R1)
    .call(BPF_GET_CURRENT_PID_TGID)
    .lddw(R1, MAIN_THREAD)
    .jne(R0, R1, "out");
  b = key(b).stx(Size.W, R10, R0, -4).ldMapFd(R1, map.fd).mov(R2, R10).add(R2, -4).call(BPF_MAP_LOOKUP_ELEM);
  return use(b.jeq(R0, 0, "out"))
    .label("out")
    .mov(R0, 0)
    .exit();
}

const slotZero = (b: ProgramBuilder): ProgramBuilder => b.mov(R0, 0);
const addOne = (b: ProgramBuilder): ProgramBuilder => b.mov(R1, 1).atomic(Size.DW, AtomicOp.ADD, R0, R1, 0);
/** Stores the u64 at ctx+off into the slot. */
const storeCtx =
  (off: number) =>
  (b: ProgramBuilder): ProgramBuilder =>
    b.ldx(Size.DW, R1, R6, off).stx(Size.DW, R0, R1, 0);

let dir: string;
let file: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-guest-kprobe-"));
  file = join(dir, "f");
  writeFileSync(file, "x");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** open(2) + close(2) of the test file, `n` times. */
const openClose = (n: number): void => {
  for (let i = 0; i < n; i++) closeSync(openSync(file, "r"));
};
/** The errno code of opening a missing file (do_sys_openat2 returns -ENOENT). */
const openMissing = (): string => {
  try {
    closeSync(openSync(join(dir, "missing"), "r"));
    return "opened";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
};

const kprobeEvents = (): string => systemTracefs().read("kprobe_events");
const ourEvents = (): string[] =>
  kprobeEvents()
    .split("\n")
    .filter((l) => l.includes(`tsbpf_${process.pid}_`));

for (const mode of ["pmu", "tracefs"] as const) {
  const feature = mode === "pmu" ? "kprobe" : "kprobe-events";

  kernelTest(
    `kprobe do_sys_openat2 (${mode}) counts this process's opens, and stops when closed`,
    { requires: [feature] },
    () => {
      using map = slotsMap(1);
      using prog = KernelProgram.load({
        type: "kprobe",
        license: "GPL",
        name: uniqueName("kp"),
        insns: forThisProcess(map, slotZero, addOne).build(),
      });
      const link = attachKprobe(prog, { symbol: "do_sys_openat2", probeMode: mode });
      try {
        const lines = ourEvents();
        if (mode === "tracefs") {
          assert.equal(lines.length, 1, `kprobe_events: ${kprobeEvents()}`);
          assert.match(
            lines[0]!,
            new RegExp(`^p:kprobes/tsbpf_${process.pid}_do_sys_openat2_\\d+ do_sys_openat2`),
          );
        } else {
          assert.deepEqual(lines, [], "a PMU kprobe is not listed in kprobe_events");
        }
        // Reading kprobe_events above opened a file too: count from here.
        const start = slot(map, 0);
        openClose(20);
        assert.ok(slot(map, 0) - start >= 20n, `hits: ${start}, then ${slot(map, 0)}`);
      } finally {
        link.close();
      }
      assert.deepEqual(ourEvents(), [], "the kprobe_events line is removed on close");
      const hits = slot(map, 0);
      openClose(5);
      assert.equal(slot(map, 0), hits);
    },
  );

  kernelTest(
    `kretprobe do_sys_openat2 (${mode}) sees the return value (-ENOENT, then an fd)`,
    { requires: [feature] },
    () => {
      using map = slotsMap(1);
      using prog = KernelProgram.load({
        type: "kprobe",
        license: "GPL",
        name: uniqueName("kretp"),
        insns: forThisProcess(map, slotZero, storeCtx(PT_REGS_AX)).build(),
      });
      {
        using _link = attachKretprobe(prog, { symbol: "do_sys_openat2", probeMode: mode });
        if (mode === "tracefs")
          assert.match(
            ourEvents()[0] ?? "",
            new RegExp(`^r\\d*:kprobes/tsbpf_${process.pid}_do_sys_openat2_\\d+ do_sys_openat2`),
          );
        assert.equal(openMissing(), "ENOENT");
        assert.equal(slot(map, 0), -2n);
        const fd = openSync(file, "r");
        closeSync(fd);
        assert.equal(slot(map, 0), BigInt(fd));
      }
      assert.deepEqual(ourEvents(), []);
    },
  );
}

kernelTest(
  "kprobe.multi on openat and close (cookies 1, 2) counts each",
  { requires: ["kprobe-multi"] },
  () => {
    using map = slotsMap(3);
    using prog = KernelProgram.load({
      type: "kprobe",
      expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
      license: "GPL",
      name: uniqueName("kpmulti"),
      insns: forThisProcess(map, (b) => b.mov(R1, R6).call(BPF_GET_ATTACH_COOKIE), addOne).build(),
    });
    {
      using link = attachKprobeMulti(prog, {
        symbols: ["__x64_sys_openat", "__x64_sys_close"],
        cookies: [1n, 2n],
      });
      assert.equal(link.kind, "kprobe.multi");
      openClose(10);
      assert.ok(slot(map, 1) >= 10n, `openat hits: ${slot(map, 1)}`);
      assert.ok(slot(map, 2) >= 10n, `close hits: ${slot(map, 2)}`);
      assert.equal(slot(map, 0), 0n, "every hit carries its function's cookie");
    }
    const before = [slot(map, 1), slot(map, 2)];
    openClose(3);
    assert.deepEqual([slot(map, 1), slot(map, 2)], before);
  },
);

kernelTest(
  'kprobe.multi by glob (libbpf\'s SEC("kprobe.multi/__x64_sys_openat*")): the matching traceable functions, one link',
  { requires: ["kprobe-multi"] },
  () => {
    using map = slotsMap(1);
    using prog = KernelProgram.load({
      type: "kprobe",
      expectedAttachType: AttachType.TRACE_KPROBE_MULTI,
      license: "GPL",
      name: uniqueName("kpglob"),
      insns: forThisProcess(map, slotZero, addOne).build(),
    });
    const attachment = attachProgram(prog, "kprobe.multi", "__x64_sys_openat*");
    try {
      // openat and openat2, from available_filter_functions
      assert.match(attachment.description, /^kprobe\.multi\/__x64_sys_openat\* \(([2-9]|\d\d+) functions\)$/);
      openClose(5);
      assert.ok(slot(map, 0) >= 5n, `hits: ${slot(map, 0)}`);
    } finally {
      attachment.link.close();
    }
    assert.throws(
      () => attachProgram(prog, "kprobe.multi", "tsbpf_no_such_function_*"),
      /kprobe\.multi: no kernel function matches 'tsbpf_no_such_function_\*'/,
    );
  },
);
