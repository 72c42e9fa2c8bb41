// Runtime helpers with the kernel's semantics: printk format rules, bpf_loop limits, probe_read
// faults, current task, fib_lookup, kfuncs by name.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ProgramBuilder, R0, R1, R2, R3, R4, R10 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import { loadObjectFile } from "../../../src/object/index.js";
import { formatBpf } from "../../../src/vm/helpers/index.js";
import { Memory } from "../../../src/vm/memory.js";
import { syscall, xdp } from "../../../src/vm/program-types/index.js";
import { loadKernelBtf } from "../../../src/btf/index.js";
import { createTaskStruct, fixedClock, hostTask, VmRuntime } from "../../../src/vm/runtime/index.js";

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["../../..", "../../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;
const cstr = (s: string): Uint8Array => new TextEncoder().encode(s + "\0");

test("printk formats: the kernel's conversions", () => {
  const m = new Memory();
  const abc = m.addRegion({ kind: "other", name: "s", bytes: cstr("abc") });
  const ip = m.addRegion({ kind: "other", name: "ip", bytes: Uint8Array.of(10, 0, 0, 1) });
  const f = (fmt: string, ...args: bigint[]) => formatBpf(cstr(fmt), args, m);
  assert.equal(f("%d %i %u", -1n, 5n, -1n), "-1 5 4294967295");
  assert.equal(f("%ld %lld %llu", -1n, -2n, -1n), "-1 -2 18446744073709551615");
  assert.equal(f("%x %X %lx %llx", 255n, 255n, 1n << 40n, -1n), "ff FF 10000000000 ffffffffffffffff");
  assert.equal(f("[%5d|%-5d|%05d|%+d]", 42n, 42n, 42n, 42n), "[   42|42   |00042|+42]");
  assert.equal(f("%s-%c-%%", abc.base, 0x41n), "abc-A-%");
  assert.equal(f("%p %pK", 0x1234n, 0n), "0000000000001234 0000000000000000");
  assert.equal(f("%pI4", ip.base), "10.0.0.1");
  assert.equal(f("%s!", 0x10n), "!"); // unreadable string: empty, as the kernel
});

test("printk formats: what bpf_bprintf_prepare refuses is -EINVAL", () => {
  const m = new Memory();
  const f = (fmt: string, ...args: bigint[]) => formatBpf(cstr(fmt), args, m);
  assert.equal(f("%d %d", 1n), -22); // more conversions than arguments
  assert.equal(f("%q", 1n), -22);
  assert.equal(f("%f", 1n), -22);
  assert.equal(f("%sx", 1n), -22); // %s must be followed by a space, punctuation or the end
  assert.equal(f("%pB", 1n), "0000000000000001"); // %pB: symbol lookup, not in the VM: the pointer
  assert.equal(f("\x01", 1n), -22); // not printable
  assert.equal(formatBpf(Uint8Array.of(0x41, 0x42), [], m), -22); // not NUL-terminated
});

test("bpf_trace_printk / vprintk write trace_pipe lines; snprintf returns the length with the NUL", () => {
  const lines: string[] = [];
  const rt = new VmRuntime({
    trace: (l) => lines.push(l),
    task: { pid: 7, tgid: 7, uid: 0, gid: 0, comm: "tsbpf" },
    clock: fixedClock(1_500_000_000n),
  });
  const obj = rt.loadObject(loadObjectFile(`${root}bpf/helpers/printk.bpf.o`));
  assert.equal(obj.program("printk_formats").testRun().retval, 10);
  assert.deepEqual(lines, [
    "tsbpf-7 [000] ..... 1.500000: bpf_trace_printk: tsbpf printk: 42 abc",
    "tsbpf-7 [000] ..... 1.500000: bpf_trace_printk: tsbpf vprintk: 1 2 3 4 5",
  ]);
});

/** A syscall program calling bpf_loop(n, callback, 0, flags) that returns bpf_loop's result. */
function loopProgram(n: number, flags: number) {
  return new ProgramBuilder()
    .mov(R1, n)
    .ldFunc(R2, "cb")
    .mov(R3, 0)
    .mov(R4, flags)
    .call(181)
    .exit()
    .label("cb")
    .mov(R0, 0)
    .exit()
    .build();
}

test("bpf_loop: flags must be 0, at most 1 << 23 iterations, returns the iterations", () => {
  const rt = new VmRuntime({ budget: 100_000 });
  assert.equal(rt.loadProgram(loopProgram(10, 0), { type: syscall }).run(), 10);
  assert.equal(rt.loadProgram(loopProgram(10, 1), { type: syscall }).run() | 0, -22);
  const big = new ProgramBuilder()
    .lddw(R1, (1 << 23) + 1)
    .ldFunc(R2, "cb")
    .mov(R3, 0)
    .mov(R4, 0)
    .call(181)
    .exit()
    .label("cb")
    .mov(R0, 0)
    .exit()
    .build();
  assert.equal(rt.loadProgram(big, { type: syscall }).run() | 0, -7);
  // a callback returning 1 stops the loop: iterations done = index + 1
  const stop = new ProgramBuilder()
    .mov(R1, 100)
    .ldFunc(R2, "cb")
    .mov(R3, 0)
    .mov(R4, 0)
    .call(181)
    .exit()
    .label("cb")
    .mov(R0, 0)
    .jne(R1, 4, "go")
    .mov(R0, 1)
    .label("go")
    .exit()
    .build();
  assert.equal(rt.loadProgram(stop, { type: syscall }).run(), 5);
});

test("probe_read_kernel: a bad address zeroes the destination and returns -EFAULT", () => {
  const rt = new VmRuntime();
  const read = (returnValue: boolean) =>
    new ProgramBuilder()
      .st(Size.DW, R10, -8, -1)
      .mov(R1, R10)
      .add(R1, -8)
      .mov(R2, 8)
      .mov(R3, 0x10)
      .call(113)
      .raw(...(returnValue ? [] : new ProgramBuilder().ldx(Size.DW, R0, R10, -8).build()))
      .exit()
      .build();
  assert.equal(rt.loadProgram(read(true), { type: syscall }).run() | 0, -14);
  assert.equal(rt.loadProgram(read(false), { type: syscall }).testRun().r0, 0n);
});

test("current task helpers come from the host's task context", () => {
  const rt = new VmRuntime({ task: { pid: 10, tgid: 20, uid: 1000, gid: 100, comm: "worker" } });
  const r = rt.loadProgram(new ProgramBuilder().call(14).exit().build(), { type: syscall }).testRun();
  assert.equal(r.r0, (20n << 32n) | 10n);
  const ug = rt.loadProgram(new ProgramBuilder().call(15).exit().build(), { type: syscall }).testRun();
  assert.equal(ug.r0, (100n << 32n) | 1000n);
});

test("bpf_fib_lookup finds no route in the VM (BPF_FIB_LKUP_RET_NOT_FWDED) and checks its size", () => {
  const rt = new VmRuntime();
  const fib = (plen: number) =>
    new ProgramBuilder().mov(R2, R10).add(R2, -64).mov(R3, plen).mov(R4, 0).call(69).exit().build();
  const udp = new Uint8Array(readFileSync(`${root}bpf/testdata/eth-ipv4-udp.bin`));
  assert.equal(rt.loadProgram(fib(64), { type: xdp }).testRun({ dataIn: udp }).retval, 4);
  assert.equal(rt.loadProgram(fib(63), { type: xdp }).testRun({ dataIn: udp }).retval | 0, -22);
});

test("kfunc calls without a name (raw programs) are refused at load", () => {
  const rt = new VmRuntime();
  const p = new ProgramBuilder().callKfunc(123).exit().build();
  assert.throws(() => rt.loadProgram(p, { type: syscall }), /kfunc call \(BTF id 123\) has no name/);
});

test("tsbpf-corpus kfuncs resolve by name: the open-coded iterator", () => {
  const rt = new VmRuntime();
  const obj = rt.loadObject(loadObjectFile(`${root}bpf/scenarios/open_coded_iter_1000.bpf.o`));
  assert.equal(obj.program("open_coded_iter_1000").run(), 1000);
  const bss = obj.map(".bss").lookup(new Uint8Array(4))!;
  const v = new DataView(bss.buffer, bss.byteOffset);
  assert.deepEqual(
    [v.getBigUint64(0, true), v.getBigUint64(8, true), v.getUint32(16, true)],
    [499500n, 499500n, 1000],
  );
});

test("the host task is this process as the kernel sees it: /proc comm and ids, the parent process", () => {
  const t = hostTask();
  assert.equal(t.tgid, process.pid);
  assert.equal(t.parent?.tgid, process.ppid, "task->real_parent->tgid is the parent's pid");
  if (existsSync("/proc/self/comm")) {
    assert.equal(
      t.comm,
      readFileSync("/proc/self/comm", "utf8").trimEnd(),
      "the kernel's comm, not process.title",
    );
    assert.equal(t.pid, process.pid, "the main thread's id");
    assert.equal(t.uid, process.getuid!());
    assert.equal(t.euid, process.geteuid!());
    assert.equal(t.gid, process.getgid!());
  }
  const rt = new VmRuntime({ task: t });
  const comm = rt.loadProgram(
    new ProgramBuilder()
      .mov(R1, R10)
      .add(R1, -16)
      .mov(R2, 16)
      .call(16)
      .ldx(Size.DW, R0, R10, -16)
      .exit()
      .build(),
    { type: syscall },
  );
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, comm.testRun().r0, true);
  assert.equal(new TextDecoder().decode(bytes).replace(/\0.*$/s, ""), t.comm.slice(0, 8));
});

test("task_struct: real_parent and parent point at the parent's task_struct, group_leader at itself", (ctx) => {
  let btf;
  try {
    btf = loadKernelBtf();
  } catch {
    return ctx.skip("no /sys/kernel/btf/vmlinux");
  }
  const memory = new Memory();
  const task = {
    pid: 11,
    tgid: 10,
    uid: 5,
    gid: 6,
    euid: 7,
    comm: "child",
    parent: { pid: 3, tgid: 3, uid: 0, gid: 0, comm: "init" },
  };
  const regions = createTaskStruct(memory, btf, task)!;
  const ts = btf.typeByName("task_struct", "struct") as unknown as {
    members: { name: string; bitOffset: number }[];
  };
  const off = (name: string) => ts.members.find((m) => m.name === name)!.bitOffset / 8;
  const u64 = (addr: bigint) => memory.readUint(addr, 8);
  const u32 = (addr: bigint) => Number(memory.readUint(addr, 4));
  const base = regions.task.base;
  const parent = u64(base + BigInt(off("real_parent")));
  assert.equal(parent, regions.parent!.task.base);
  assert.equal(u64(base + BigInt(off("parent"))), parent);
  assert.equal(u32(parent + BigInt(off("tgid"))), 3);
  assert.equal(u64(parent + BigInt(off("real_parent"))), parent, "the parent without a parent is its own");
  assert.equal(u64(base + BigInt(off("group_leader"))), base);
  assert.equal(u32(base + BigInt(off("pid"))), 11);
  assert.equal(u32(base + BigInt(off("tgid"))), 10);
  const cred = u64(base + BigInt(off("cred")));
  const cs = btf.typeByName("cred", "struct") as unknown as {
    members: { name: string; bitOffset: number }[];
  };
  const coff = (name: string) => BigInt(cs.members.find((m) => m.name === name)!.bitOffset / 8);
  assert.deepEqual(
    ["uid", "euid", "suid", "gid", "egid"].map((n) => u32(cred + coff(n))),
    [5, 7, 5, 6, 6],
  );
});
