import assert from "node:assert/strict";
import { test } from "node:test";
import {
  KernelMap,
  KernelProgram,
  SyscallError,
  VerifierError,
  describeErrno,
  summarizeVerifierLog,
} from "../../src/kernel/index.js";
import { BpfCmd, PROG_LOAD_ATTR, MAP_CREATE_ATTR, useSyscalls } from "../../src/kernel/sys/index.js";
import { fakeSyscalls } from "./fake-syscalls.js";

const EPERM = 1;
const EACCES = 13;
const ENOSPC = 28;

test("errno names come from the system, kernel-internal ones from our table", () => {
  assert.equal(describeErrno(1)[0], "EPERM");
  assert.equal(describeErrno(524)[0], "ENOTSUPP");
  assert.equal(describeErrno(9999)[0], "errno 9999");
});

test("errno 95 is EOPNOTSUPP, not libuv's 'operation not supported on socket'", () => {
  assert.deepEqual(describeErrno(95), ["EOPNOTSUPP", "operation not supported"]);
  const e = new SyscallError("BPF_LINK_CREATE", 95);
  assert.equal(e.errnoName, "EOPNOTSUPP");
  assert.doesNotMatch(e.message, /socket/);
  assert.match(e.message, /EOPNOTSUPP \(operation not supported\): operation not supported for this object/);
});

test("SyscallError names the command, the errno and what to do", () => {
  const e = new SyscallError("BPF_MAP_UPDATE_ELEM", 7, { context: "map 'counts'" });
  assert.equal(e.errnoName, "E2BIG");
  assert.match(e.message, /^map 'counts': BPF_MAP_UPDATE_ELEM failed: E2BIG .*: the map is full/);
  assert.match(new SyscallError("BPF_OBJ_GET", 2).message, /nothing is pinned at this path/);
});

test("EPERM from the kernel becomes a message about root and CAP_BPF (fake syscall layer)", () => {
  const restore = useSyscalls(fakeSyscalls(() => -EPERM));
  try {
    assert.throws(
      () => KernelMap.create({ type: "hash", keySize: 4, valueSize: 4, maxEntries: 1, name: "m" }),
      (e: unknown) =>
        e instanceof SyscallError &&
        e.call === "BPF_MAP_CREATE" &&
        e.errno === EPERM &&
        /create hash map 'm'/.test(e.message) &&
        /needs root or CAP_BPF\/CAP_PERFMON/.test(e.message),
    );
  } finally {
    restore();
  }
});

test("map create encodes the attr the kernel expects (fake syscall layer)", () => {
  let seen: { cmd: number; type: number; key: number; value: number; max: number; name: string } | undefined;
  const restore = useSyscalls(
    fakeSyscalls((cmd, attr) => {
      if (cmd !== BpfCmd.MAP_CREATE) return -EPERM;
      const name = new Uint8Array(attr.buffer, attr.byteOffset + MAP_CREATE_ATTR.fields.map_name.offset, 16);
      seen = {
        cmd,
        type: attr.getUint32(0, true),
        key: attr.getUint32(4, true),
        value: attr.getUint32(8, true),
        max: attr.getUint32(12, true),
        name: Buffer.from(name.subarray(0, name.indexOf(0))).toString(),
      };
      return -EPERM;
    }),
  );
  try {
    assert.throws(() =>
      KernelMap.create({ type: "lru_hash", keySize: 8, valueSize: 16, maxEntries: 99, name: "lru" }),
    );
    assert.deepEqual(seen, { cmd: 0, type: 9, key: 8, value: 16, max: 99, name: "lru" });
  } finally {
    restore();
  }
});

test("program load retries with a log that grows to log_true_size, then reports the verifier's reason", () => {
  const LOG = "0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n";
  const attempts: { level: number; size: number }[] = [];
  const restore = useSyscalls(
    fakeSyscalls((cmd, attr, memory) => {
      assert.equal(cmd, BpfCmd.PROG_LOAD);
      const f = PROG_LOAD_ATTR.fields;
      const level = attr.getUint32(f.log_level.offset, true);
      const size = attr.getUint32(f.log_size.offset, true);
      attempts.push({ level, size });
      if (level === 0) return -EACCES;
      const log = memory.at(attr.getBigUint64(f.log_buf.offset, true))!;
      const bytes = new TextEncoder().encode(LOG + "x".repeat(100_000));
      attr.setUint32(f.log_true_size.offset, bytes.length + 1, true);
      log.set(bytes.subarray(0, log.byteLength - 1));
      return bytes.length + 1 > size ? -ENOSPC : -EACCES;
    }),
  );
  try {
    const insns = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(
      () => KernelProgram.load({ type: "xdp", insns, license: "GPL", name: "p" }),
      (e: unknown) => {
        assert.ok(e instanceof VerifierError);
        assert.equal(e.errno, EACCES);
        assert.equal(e.truncated, false);
        assert.ok(e.log.startsWith(LOG));
        return true;
      },
    );
    assert.deepEqual(
      attempts.map((a) => a.level),
      [0, 1, 1],
    );
    assert.equal(attempts[1]!.size, 64 * 1024);
    assert.equal(attempts[2]!.size, 100_000 + LOG.length + 1);
  } finally {
    restore();
  }
});

test("a log that never fits stops at maxLogSize and is marked truncated", () => {
  const restore = useSyscalls(
    fakeSyscalls((_cmd, attr, memory) => {
      const f = PROG_LOAD_ATTR.fields;
      if (attr.getUint32(f.log_level.offset, true) === 0) return -EACCES;
      const log = memory.at(attr.getBigUint64(f.log_buf.offset, true))!;
      log.set(new TextEncoder().encode("0: (95) exit\nR0 !read_ok\n"));
      return -ENOSPC; // an old kernel: no log_true_size
    }),
  );
  try {
    const insns = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(
      () => KernelProgram.load({ type: "xdp", insns, license: "GPL" }, { logSize: 1024, maxLogSize: 16384 }),
      (e: unknown) => e instanceof VerifierError && e.truncated && /R0 !read_ok/.test(e.summary),
    );
  } finally {
    restore();
  }
});

test("summarizeVerifierLog: reason, failing instruction, source line, hint", () => {
  const log = [
    "func#0 @0",
    "0: R1=ctx() R10=fp0",
    "; return *(int *)0; @ prog.c:7",
    "0: (b7) r1 = 0                        ; R1_w=0",
    "1: (61) r0 = *(u32 *)(r1 +0)",
    "R1 invalid mem access 'scalar'",
    "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
    "",
  ].join("\n");
  const s = summarizeVerifierLog(log);
  assert.equal(s.reason, "R1 invalid mem access 'scalar'");
  assert.equal(s.insnIndex, 1);
  assert.equal(s.insn, "(61) r0 = *(u32 *)(r1 +0)");
  assert.equal(s.source, "return *(int *)0; @ prog.c:7");
  assert.match(s.hint!, /check pointers/);
  const described = summarizeVerifierLog(log, (i) => `line for insn ${i}`);
  assert.equal(described.source, "line for insn 1");
  const e = new VerifierError("p", EACCES, log);
  assert.match(
    e.message,
    /^load program 'p': verifier rejected it \(EACCES\): R1 invalid mem access 'scalar' \(at insn 1/,
  );
});

test("summarizeVerifierLog: errors found before walking instructions", () => {
  const s = summarizeVerifierLog("unreachable insn 1\nverification time 5 usec\n");
  assert.equal(s.reason, "unreachable insn 1");
  assert.equal(s.insnIndex, 1);
  assert.equal(s.insn, undefined);
});
