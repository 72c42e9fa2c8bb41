/**
 * BPF trampolines that really run, on kernels that have them (the QEMU kernel matrix: Debian
 * 6.1 and 6.12): fentry/fexit on a function this test calls, fmod_ret on the kernel's own test
 * function, and an LSM program that denies opening one file.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { loadKernelBtf } from "../../../src/btf/index.js";
import { ProgramBuilder, R0, R1, R2, R6, R10 } from "../../../src/isa/builder.js";
import { AtomicOp, Size } from "../../../src/isa/opcodes.js";
import {
  attachFentry,
  attachFexit,
  attachFmodRet,
  attachLsm,
  kernelBtfId,
  loadTracingProgram,
} from "../../../src/kernel/links/index.js";
import { KernelMap } from "../../../src/kernel/map.js";
import { AttachType } from "../../../src/kernel/sys/index.js";
import { testRun } from "../../../src/kernel/test-run.js";
import { VerifierError } from "../../../src/kernel/errors.js";
import { kernelTest, uniqueName } from "../../helpers/kernel-gate.js";

const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_GET_CURRENT_PID_TGID = 14;
/** bpf_get_current_pid_tgid() of this process's main thread (tid = pid), where the test makes its syscalls. */
const MAIN_THREAD = (BigInt(process.pid) << 32n) | BigInt(process.pid);
const EPERM = 1;

const slotsMap = (): KernelMap =>
  KernelMap.create({ type: "array", keySize: 4, valueSize: 8, maxEntries: 1, name: uniqueName("slot") });

const slot0 = (map: KernelMap): bigint => {
  const v = map.lookup(new Uint8Array(4))!;
  return new DataView(v.buffer, v.byteOffset).getBigInt64(0, true);
};

/** For this process's main thread only: looks up slot 0 of `map` and runs `use` with r0 = the slot, r6 = ctx. */
function forThisProcess(map: KernelMap, use: (b: ProgramBuilder) => ProgramBuilder): ProgramBuilder {
  const b = new ProgramBuilder()
    .mov(R6, R1)
    .call(BPF_GET_CURRENT_PID_TGID)
    .lddw(R1, MAIN_THREAD)
    .jne(R0, R1, "out")
    .st(Size.W, R10, -4, 0)
    .ldMapFd(R1, map.fd)
    .mov(R2, R10)
    .add(R2, -4)
    .call(BPF_MAP_LOOKUP_ELEM)
    .jeq(R0, 0, "out");
  return use(b).label("out").mov(R0, 0).exit();
}

let dir: string;
let file: string;
let other: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-guest-tramp-"));
  file = join(dir, "f");
  other = join(dir, "g");
  writeFileSync(file, "x");
  writeFileSync(other, "y");
});
after(() => rmSync(dir, { recursive: true, force: true }));

const openClose = (path: string, n = 1): void => {
  for (let i = 0; i < n; i++) closeSync(openSync(path, "r"));
};
/** The errno code opening `path` fails with, or "ok". */
const openResult = (path: string): string => {
  try {
    openClose(path);
    return "ok";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
};

const tracing = (attach: AttachType, func: string, insns: ProgramBuilder, name: string) =>
  loadTracingProgram({
    type: "tracing",
    expectedAttachType: attach,
    attachBtfId: kernelBtfId(attach, func),
    license: "GPL",
    name: uniqueName(name),
    insns: insns.build(),
  });

kernelTest(
  "fentry do_sys_openat2 counts this process's opens, and stops when closed",
  { requires: ["trampoline"] },
  () => {
    using map = slotsMap();
    using prog = tracing(
      AttachType.TRACE_FENTRY,
      "do_sys_openat2",
      forThisProcess(map, (b) => b.mov(R1, 1).atomic(Size.DW, AtomicOp.ADD, R0, R1, 0)),
      "fentry",
    );
    {
      using link = attachFentry(prog);
      assert.equal(link.kind, "fentry");
      const start = slot0(map);
      openClose(file, 20);
      assert.ok(slot0(map) - start >= 20n, `hits: ${start}, then ${slot0(map)}`);
    }
    const hits = slot0(map);
    openClose(file, 5);
    assert.equal(slot0(map), hits);
  },
);

kernelTest(
  "fexit do_sys_openat2 reads the return value (-ENOENT, then an fd)",
  { requires: ["trampoline"] },
  () => {
    using map = slotsMap();
    // do_sys_openat2(int dfd, const char *filename, struct open_how *how): the return value follows the 3 arguments.
    using prog = tracing(
      AttachType.TRACE_FEXIT,
      "do_sys_openat2",
      forThisProcess(map, (b) => b.ldx(Size.DW, R1, R6, 24).stx(Size.DW, R0, R1, 0)),
      "fexit",
    );
    using link = attachFexit(prog);
    assert.equal(link.kind, "fexit");
    assert.equal(openResult(join(dir, "missing")), "ENOENT");
    assert.equal(slot0(map), -2n);
    const fd = openSync(file, "r");
    closeSync(fd);
    assert.equal(slot0(map), BigInt(fd));
  },
);

kernelTest(
  "fmod_ret bpf_modify_return_test: the test run sees the replaced return value",
  { requires: ["trampoline"] },
  (t) => {
    const returning = (value: number) =>
      tracing(
        AttachType.MODIFY_RETURN,
        "bpf_modify_return_test",
        new ProgramBuilder().mov(R0, value).exit(),
        "fmodret",
      );
    let first;
    try {
      first = returning(7);
    } catch (e) {
      // 6.1 lets fmod_ret modify only error-injectable functions (Debian's 6.1 has no
      // CONFIG_FUNCTION_ERROR_INJECTION) and security_*; 6.2+ also its own test function.
      assert.ok(e instanceof VerifierError, String(e));
      assert.match(e.message, /bpf_modify_return_test\(\) is not modifiable/);
      t.skip(`this kernel refuses fmod_ret on bpf_modify_return_test: ${e.message.split("\n")[0]}`);
      return;
    }
    using seven = first;
    using nine = returning(9);
    // BPF_PROG_TEST_RUN of an fmod_ret program calls bpf_modify_return_test(1, &b) (and on
    // newer kernels bpf_modify_return_test2) and reports (side_effect << 16) | sum of returns,
    // side_effect counting how the bodies changed b. A non-zero fmod_ret
    // return skips the body: the side effect goes, and the return value is the program's.
    const plain = testRun(seven).retval;
    const attached = (prog: typeof seven): number => {
      using link = attachFmodRet(prog);
      assert.equal(link.kind, "fmod_ret");
      return testRun(prog).retval;
    };
    const with7 = attached(seven);
    const with9 = attached(nine);
    const why = `retval ${plain.toString(16)} plain, ${with7.toString(16)} with 7, ${with9.toString(16)} with 9`;
    assert.equal(with9 - with7, 2, why);
    // Which way side_effect moves depends on the kernel's test_run.c (6.1 up, 6.12 down).
    assert.equal(Math.abs((with7 >> 16) - (plain >> 16)), 1, why);
    assert.equal(testRun(seven).retval, plain, `detached: ${why}`);
  },
);

/** Byte offset of `member` in kernel struct `struct` (from the running kernel's BTF). */
function memberOffset(struct: string, member: string): number {
  const type = loadKernelBtf().typeByName(struct, "struct");
  assert.ok(type && type.kind === "struct", `struct ${struct} in kernel BTF`);
  const m = type.members.find((x) => x.name === member);
  assert.ok(m, `${struct}.${member} in kernel BTF`);
  return m.bitOffset / 8;
}

/** file_open(struct file *file) / security_file_open: -EPERM when file->f_inode->i_ino is in `inodes`. */
const denyInodes = (inodes: KernelMap): ProgramBuilder =>
  new ProgramBuilder()
    .ldx(Size.DW, R1, R1, 0)
    .ldx(Size.DW, R1, R1, memberOffset("file", "f_inode"))
    .ldx(Size.DW, R1, R1, memberOffset("inode", "i_ino"))
    .stx(Size.DW, R10, R1, -8)
    .ldMapFd(R1, inodes.fd)
    .mov(R2, R10)
    .add(R2, -8)
    .call(BPF_MAP_LOOKUP_ELEM)
    .jeq(R0, 0, "allow")
    .mov(R0, -EPERM)
    .exit()
    .label("allow")
    .mov(R0, 0)
    .exit();

const inodeMap = (path: string): KernelMap => {
  const map = KernelMap.create({
    type: "hash",
    keySize: 8,
    valueSize: 4,
    maxEntries: 4,
    name: uniqueName("deny"),
  });
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(statSync(path).ino), true);
  map.update(key, new Uint8Array(4));
  return map;
};

kernelTest(
  "fmod_ret security_file_open returns -EPERM for the one file whose inode is in a map",
  { requires: ["trampoline"] },
  () => {
    using inodes = inodeMap(file);
    using prog = tracing(AttachType.MODIFY_RETURN, "security_file_open", denyInodes(inodes), "fmod_open");
    assert.equal(openResult(file), "ok");
    {
      using link = attachFmodRet(prog);
      assert.equal(link.kind, "fmod_ret");
      assert.equal(openResult(file), "EPERM");
      assert.equal(openResult(other), "ok");
    }
    assert.equal(openResult(file), "ok");
  },
);

kernelTest(
  "lsm/file_open denies (EPERM) the one file whose inode is in a map, until closed",
  { requires: ["lsm"] },
  () => {
    using inodes = inodeMap(file);
    const insns = denyInodes(inodes);
    using prog = loadTracingProgram({
      type: "lsm",
      expectedAttachType: AttachType.LSM_MAC,
      attachBtfId: kernelBtfId(AttachType.LSM_MAC, "file_open"),
      license: "GPL",
      name: uniqueName("lsm_open"),
      insns: insns.build(),
    });
    assert.equal(openResult(file), "ok", "nothing denied before the attachment");
    {
      using link = attachLsm(prog);
      assert.equal(link.kind, "lsm");
      assert.equal(openResult(file), "EPERM");
      assert.equal(openResult(other), "ok", "another file of the same directory opens");
    }
    assert.equal(openResult(file), "ok", "allowed again once the link is closed");
  },
);
