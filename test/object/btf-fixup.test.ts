import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBtf } from "../../src/btf/index.js";
import { btfLoadRaw, closeFd } from "../../src/kernel/sys/index.js";
import { loadObjectFile, prepareObjectBtf, type ObjectSpec } from "../../src/object/index.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { FIXTURES, corpusObjects, repoPath } from "./corpus.js";

const KCONFIG = { LINUX_KERNEL_VERSION: 1, CONFIG_BPF_SYSCALL: "y" };
const load = (path: string): ObjectSpec => loadObjectFile(path, { kconfig: KCONFIG });

function datasec(spec: ObjectSpec, name: string) {
  const fixed = parseBtf(prepareObjectBtf(spec, spec.btf!).blob);
  const t = fixed.typeByName(name, "datasec")!;
  return { t, vars: t.vars.map((v) => [v.type.name, v.offset, v.size]) };
}

test("DATASEC sizes and offsets come from the ELF sections and symbols", () => {
  const aom = datasec(load(repoPath("bpf/maps/array_of_maps.bpf.o")), ".maps");
  assert.equal(aom.t.size, 104);
  assert.deepEqual(aom.vars, [
    ["inner_even", 0, 32],
    ["inner_odd", 32, 32],
    ["by_parity", 64, 40],
  ]);
  const linked = load(`${FIXTURES}/linked.bpf.o`);
  const ro = datasec(linked, ".rodata");
  assert.deepEqual(
    [ro.t.size, ro.vars],
    [
      16,
      [
        ["limit", 0, 4],
        ["entry_one.____fmt", 4, 12],
      ],
    ],
  );
  const kc = datasec(linked, ".kconfig");
  assert.equal(kc.t.size, 29);
  assert.deepEqual(
    kc.vars.map((v) => v[0]),
    ["CONFIG_BPF_JIT", "CONFIG_HZ", "LINUX_KERNEL_VERSION", "CONFIG_BPF_SYSCALL", "CONFIG_DEFAULT_HOSTNAME"],
  );
  const ks = datasec(linked, ".ksyms");
  assert.deepEqual(
    ks.vars.map((v) => [v[1], v[2]]),
    [
      [0, 4],
      [4, 4],
      [8, 4],
      [12, 4],
    ],
  );
  for (const v of ks.t.vars) {
    const t = v.type;
    assert.ok(t.kind === "var" && t.linkage === "global", `${t.name} is a global variable`);
  }
});

function btfLoad(blob: Uint8Array): { fd: number; log: string } {
  // Big enough for the verbose log of an object that pulls in many kernel types (a truncated
  // log makes the kernel answer ENOSPC even for valid BTF).
  const log = new Uint8Array(1 << 24);
  const r = btfLoadRaw({
    btf: blob,
    btf_size: blob.length,
    btf_log_buf: log,
    btf_log_size: log.length,
    btf_log_level: 1,
  });
  return { fd: r.ret, log: new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0)))) };
}

kernelTest("the kernel accepts the fixed BTF of every corpus object (and refuses clang's raw one)", () => {
  let loaded = 0;
  for (const path of corpusObjects()) {
    const spec = load(path);
    if (!spec.btf) continue;
    const { fd, log } = btfLoad(prepareObjectBtf(spec, spec.btf).blob);
    assert.ok(fd >= 0, `${path}: BPF_BTF_LOAD failed (${fd}): ${log.split("\n").slice(-3).join(" | ")}`);
    closeFd(fd);
    loaded++;
  }
  assert.ok(loaded > 30, `${loaded} objects`);
  const raw = load(`${FIXTURES}/linked.bpf.o`).btf!.bytes;
  const { fd } = btfLoad(raw);
  if (fd >= 0) closeFd(fd);
  assert.ok(fd < 0, "raw object BTF (DATASEC size 0, extern linkage) is refused");
});
