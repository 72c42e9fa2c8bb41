import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { KernelProgram, VerifierError, ensureBpffs, testRun, unpin } from "../../src/kernel/index.js";
import { ProgramType, progGetNextId } from "../../src/kernel/sys/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

const bytes = (...insns: number[][]): Uint8Array => new Uint8Array(insns.flat());

/** r0 = 2 (XDP_PASS); exit */
const XDP_PASS = bytes([0xb7, 0x00, 0, 0, 2, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]);
/** writes 0xaa into the first packet byte when there is one, returns XDP_PASS */
const XDP_MARK = bytes(
  [0x61, 0x12, 0, 0, 0, 0, 0, 0], // r2 = *(u32 *)(r1 + 0)   data
  [0x61, 0x13, 4, 0, 0, 0, 0, 0], // r3 = *(u32 *)(r1 + 4)   data_end
  [0xbf, 0x24, 0, 0, 0, 0, 0, 0], // r4 = r2
  [0x07, 0x04, 0, 0, 1, 0, 0, 0], // r4 += 1
  [0x2d, 0x34, 1, 0, 0, 0, 0, 0], // if r4 > r3 goto +1
  [0x72, 0x02, 0, 0, 0xaa, 0, 0, 0], // *(u8 *)(r2 + 0) = 0xaa
  [0xb7, 0x00, 0, 0, 2, 0, 0, 0], // r0 = 2
  [0x95, 0, 0, 0, 0, 0, 0, 0], // exit
);
/** r0 = skb->len; exit */
const SOCKET_LEN = bytes([0x61, 0x10, 0, 0, 0, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]);
/** exit without setting r0 */
const NO_R0 = bytes([0x95, 0, 0, 0, 0, 0, 0, 0]);

function withProgram(
  type: string,
  insns: Uint8Array,
  fn: (p: KernelProgram) => void,
  name = uniqueName("tsbpf_p"),
): void {
  const p = KernelProgram.load({ type, insns, license: "GPL", name });
  try {
    fn(p);
  } finally {
    p.close();
  }
}

describeKernel("KernelProgram on the running kernel", () => {
  kernelTest("XDP program loads, reports its info and passes a test run", () => {
    withProgram("xdp", XDP_PASS, (p) => {
      assert.equal(p.type, ProgramType.XDP);
      assert.match(p.tag, /^[0-9a-f]{16}$/);
      const info = p.info({ xlated: true });
      assert.equal(info.typeName, "xdp");
      assert.equal(info.name, p.name);
      assert.equal(info.id, p.id);
      assert.equal(info.xlatedSize, 16);
      assert.deepEqual(info.xlatedInsns, XDP_PASS);
      assert.ok(info.gplCompatible);
      const r = testRun(p, { dataIn: new Uint8Array(64).fill(1) });
      assert.equal(r.retval, 2);
      assert.deepEqual(r.dataOut, new Uint8Array(64).fill(1));
    });
  });

  kernelTest("test run returns the data the program wrote and an average duration", () => {
    withProgram("xdp", XDP_MARK, (p) => {
      const r = testRun(p, { dataIn: new Uint8Array(60), repeat: 1000 });
      assert.equal(r.retval, 2);
      assert.equal(r.dataOut?.[0], 0xaa);
      assert.equal(r.dataOut?.length, 60);
      assert.ok(r.duration > 0 && r.duration < 1_000_000, `${r.duration} ns per run`);
    });
  });

  kernelTest("socket filter sees the packet length after the Ethernet header", () => {
    withProgram("socket_filter", SOCKET_LEN, (p) => {
      // The kernel pulls the 14-byte Ethernet header before running socket filters.
      assert.equal(testRun(p, { dataIn: new Uint8Array(100) }).retval, 86);
      assert.equal(testRun(p, { dataIn: new Uint8Array(42), repeat: 10 }).retval, 28);
    });
  });

  kernelTest("an invalid program gives a VerifierError with the verifier's reason and the full log", () => {
    assert.throws(
      () => KernelProgram.load({ type: "xdp", insns: NO_R0, license: "GPL", name: "tsbpf_bad" }),
      (e: unknown) => {
        assert.ok(e instanceof VerifierError, String(e));
        assert.match(e.summary, /R0 !read_ok/);
        assert.match(e.summary, /at insn 0: \(95\) exit/);
        assert.match(e.log, /processed 1 insns/);
        assert.equal(e.errnoName, "EACCES");
        assert.match(e.message, /^load program 'tsbpf_bad': verifier rejected it/);
        return true;
      },
    );
  });

  kernelTest("a log level keeps the verifier log of a successful load", () => {
    const p = KernelProgram.load({ type: "xdp", insns: XDP_PASS, license: "GPL" }, { logLevel: 1 });
    try {
      assert.match(p.verifierLog ?? "", /processed 2 insns/);
    } finally {
      p.close();
    }
  });

  kernelTest("pin, reopen by path and id, list by id, unpin", () => {
    const name = uniqueName("tsbpf_pp");
    const path = `${ensureBpffs()}/${name}`;
    withProgram(
      "xdp",
      XDP_PASS,
      (p) => {
        try {
          p.pin(path);
          const again = KernelProgram.fromPin(path);
          try {
            assert.equal(again.id, p.id);
            assert.equal(again.name, name);
            assert.equal(testRun(again, { dataIn: new Uint8Array(20) }).retval, 2);
          } finally {
            again.close();
          }
          const byId = KernelProgram.fromId(p.id);
          byId.close();
          let found = false;
          for (let id = progGetNextId(0); id !== undefined; id = progGetNextId(id)) found ||= id === p.id;
          assert.ok(found, "our program is listed");
        } finally {
          unpin(path);
        }
        assert.ok(!existsSync(path));
      },
      name,
    );
  });

  kernelTest("bad names and odd instruction lengths are refused before the syscall", () => {
    assert.throws(
      () => KernelProgram.load({ type: "xdp", insns: XDP_PASS, license: "GPL", name: "has-dash" }),
      /accepts only \[A-Za-z0-9_.\]/,
    );
    assert.throws(
      () => KernelProgram.load({ type: "xdp", insns: new Uint8Array(12), license: "GPL" }),
      /12 bytes of instructions/,
    );
    assert.throws(
      () => KernelProgram.load({ type: "nope", insns: XDP_PASS, license: "GPL" }),
      /unknown program type 'nope'/,
    );
  });
});
