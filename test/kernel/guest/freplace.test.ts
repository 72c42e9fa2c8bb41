/**
 * freplace that really replaces, on kernels with BPF trampolines (the QEMU kernel matrix):
 * an XDP program calling a global subprogram, and an EXT program replacing that subprogram.
 * Both are BPF C compiled here with clang-19, for their BTF and func_info.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { attachFreplace, loadTracingProgram } from "../../../src/kernel/links/index.js";
import { KernelCollection, loadBtfBlob, prepareObjectBtf } from "../../../src/kernel/object/index.js";
import { testRun } from "../../../src/kernel/test-run.js";
import { loadObjectFile } from "../../../src/object/index.js";
import { kernelTest, uniqueName } from "../../helpers/kernel-gate.js";

const XDP_PASS = 2;
const XDP_TX = 3;

const PRELUDE = `
struct xdp_md { unsigned int data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
enum xdp_action { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX };
#define SEC(name) __attribute__((section(name), used))
char _license[] SEC("license") = "GPL";
`;

/** XDP_PASS for any packet longer than a byte; a global function, so the kernel can replace it. */
const TARGET = `${PRELUDE}
__attribute__((noinline)) int get_action(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  return data + 1 < end ? XDP_PASS : XDP_DROP;
}
SEC("xdp") int entry(struct xdp_md *ctx) { return get_action(ctx); }
`;

const REPLACEMENT = `${PRELUDE}
SEC("freplace/get_action") int new_action(struct xdp_md *ctx) { return XDP_TX; }
`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-guest-freplace-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles BPF C with clang-19 -g (BTF); throws with clang's message when that fails. */
function compile(name: string, source: string): string {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  const r = spawnSync("clang-19", ["-O2", "-g", "-target", "bpf", "-c", c, "-o", o], { encoding: "utf8" });
  if (r.error) throw new Error(`clang-19 is needed to build the test programs: ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return o;
}

const packet = new Uint8Array(64);

kernelTest(
  "freplace: an EXT program replaces the XDP program's global subprogram (test run: PASS, TX, PASS)",
  { requires: ["trampoline"] },
  () => {
    const targetSpec = loadObjectFile(compile("target", TARGET));
    using target = KernelCollection.load(targetSpec);
    const entry = target.program("entry");
    assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_PASS);

    const funcId = targetSpec.btf?.typeByName("get_action", "func")?.id;
    assert.ok(funcId, "get_action is a FUNC of the target's BTF");
    const extSpec = loadObjectFile(compile("replacement", REPLACEMENT));
    const ext = extSpec.programs.find((p) => p.name === "new_action");
    assert.ok(ext && extSpec.btf, "new_action with BTF");
    using btf = loadBtfBlob(prepareObjectBtf(extSpec, extSpec.btf).blob);
    using prog = loadTracingProgram({
      type: ext.type,
      insns: ext.instructions,
      license: ext.license,
      name: uniqueName("freplace"),
      attachProgFd: entry.fd,
      attachBtfId: funcId,
      btfFd: btf.fd,
      // .BTF.ext counts bytes, BPF_PROG_LOAD counts instructions.
      funcInfo: ext.funcInfo.map((f) => ({ insnOff: f.insnOff / 8, typeId: f.typeId })),
    });
    {
      using link = attachFreplace(prog);
      assert.equal(link.kind, "freplace");
      assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_TX);
    }
    assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_PASS, "the original is back once detached");
  },
);
