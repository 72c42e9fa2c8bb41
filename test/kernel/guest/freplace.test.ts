/**
 * freplace that really replaces, on kernels with BPF trampolines (the QEMU kernel matrix):
 * an XDP program calling a global subprogram, and an EXT program replacing that subprogram,
 * loaded with KernelCollectionOptions.attachTargets; and the errors everywhere else.
 * Both are BPF C compiled here with clang-19, for their BTF and func_info.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { NotSupportedError } from "../../../src/errors.js";
import { attachFreplace } from "../../../src/kernel/links/index.js";
import { KernelCollection } from "../../../src/kernel/object/index.js";
import { testRun } from "../../../src/kernel/test-run.js";
import { loadObjectFile } from "../../../src/object/index.js";
import { kernelTest } from "../../helpers/kernel-gate.js";

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
    using target = KernelCollection.load(loadObjectFile(compile("target", TARGET)));
    const entry = target.program("entry");
    assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_PASS);

    // The target as libbpf's bpf_program__set_attach_target: the function comes from the section.
    using replacement = KernelCollection.load(loadObjectFile(compile("replacement", REPLACEMENT)), {
      attachTargets: { new_action: { program: entry } },
    });
    {
      using link = attachFreplace(replacement.program("new_action"));
      assert.equal(link.kind, "freplace");
      assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_TX);
    }
    assert.equal(testRun(entry, { dataIn: packet }).retval, XDP_PASS, "the original is back once detached");
  },
);

kernelTest(
  "freplace: a missing or wrong target is a one-line error naming the program and the function (before loading)",
  () => {
    using target = KernelCollection.load(loadObjectFile(compile("target2", TARGET)));
    const spec = loadObjectFile(compile("replacement2", REPLACEMENT));
    assert.throws(
      () => KernelCollection.load(spec),
      /^TsbpfError: freplace program 'new_action' \(freplace\/get_action\): no target program \(give KernelCollectionOptions\.attachTargets\['new_action'\] = \{ program \}\)$/,
    );
    assert.throws(
      () =>
        KernelCollection.load(spec, {
          attachTargets: { new_action: { program: target.program("entry"), function: "nope" } },
        }),
      /freplace program 'new_action' \(freplace\/get_action\): the target program 'entry' \(id \d+\) has no global function 'nope' in its BTF/,
    );
  },
);

kernelTest(
  "freplace on a kernel without BPF trampolines: NotSupportedError naming them, nothing left loaded",
  { lacks: ["trampoline"] },
  () => {
    using target = KernelCollection.load(loadObjectFile(compile("target3", TARGET)));
    assert.throws(
      () =>
        KernelCollection.load(loadObjectFile(compile("replacement3", REPLACEMENT)), {
          attachTargets: { new_action: { program: target.program("entry") } },
        }),
      (e: unknown) =>
        e instanceof NotSupportedError &&
        e.feature === "BPF trampolines" &&
        /^freplace program|program 'new_action' \(freplace\/get_action\) runs through a BPF trampoline/.test(
          e.message,
        ),
    );
  },
);
