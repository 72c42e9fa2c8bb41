import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { encodeBtf, parseBtf } from "../../../src/btf/index.js";
import { prepareObjectBtf, sanitizeBtfKinds } from "../../../src/kernel/object/index.js";
import { loadObjectSpec } from "../../../src/object/index.js";
import { repoRoot } from "../../helpers/shared.js";

const spec = (path: string) =>
  loadObjectSpec(new Uint8Array(readFileSync(join(repoRoot, path))), {
    file: path,
    kconfig: { LINUX_KERNEL_VERSION: 0x61200, CONFIG_HZ: 250, CONFIG_BPF_SYSCALL: "y" },
  });

test("DATASEC sizes and variable offsets come from the ELF sections and symbols", () => {
  const s = spec("bpf/lang/global_data.bpf.o");
  const fixed = parseBtf(prepareObjectBtf(s, s.btf!).blob);
  for (const g of s.globals) {
    const sec = fixed.typeByName(g.section, "datasec")!;
    assert.equal(sec.size, g.size, g.section);
    for (const v of sec.vars) {
      const want = g.variables.find((x) => x.name === v.type.name)!;
      assert.equal(v.offset, want.offset, `${g.section} ${v.type.name}`);
    }
  }
  const bss = fixed.typeByName(".bss", "datasec")!;
  assert.deepEqual(
    bss.vars.map((v) => v.offset),
    [...bss.vars.map((v) => v.offset)].sort((a, b) => a - b),
    "sorted by offset",
  );
  // Patched in place: the string table (which line_info points into) is unchanged.
  assert.equal(fixed.strings.length, s.btf!.strings.length);
  assert.equal(fixed.count, s.btf!.count);
});

test(".kconfig variables move to their offsets in the kconfig map; .ksyms entries become 4-byte variables", () => {
  const k = spec("bpf/lang/kconfig.bpf.o");
  const kc = parseBtf(prepareObjectBtf(k, k.btf!).blob).typeByName(".kconfig", "datasec")!;
  for (const v of kc.vars) assert.equal(v.offset, k.kconfig.find((e) => e.name === v.type.name)!.offset);
  assert.equal(kc.size, k.maps.find((m) => m.section === ".kconfig")!.valueSize);

  const i = spec("bpf/scenarios/open_coded_iter_1000.bpf.o");
  const prepared = prepareObjectBtf(i, i.btf!);
  const btf = parseBtf(prepared.blob);
  const ks = btf.typeByName(".ksyms", "datasec")!;
  assert.deepEqual(
    ks.vars.map((v) => [v.offset, v.size, v.type.kind, v.type.name]),
    ks.vars.map((_, n) => [n * 4, 4, "var", "dummy_ksym"]),
  );
  assert.equal(ks.size, ks.vars.length * 4);
  // kfunc declarations become global functions, the kernel refuses extern ones.
  const fn = btf.typeByName("bpf_iter_num_new", "func")!;
  assert.equal(fn.kind === "func" && fn.linkage, "global");
  assert.equal(btf.count, i.btf!.count + 1, "one dummy_ksym VAR appended");
});

test("sanitizing replaces type_tag, decl_tag and float with same-sized kinds old kernels know", () => {
  const blob = encodeBtf([
    { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    { kind: "type_tag", name: "user", targetId: 1 },
    { kind: "decl_tag", name: "tag", targetId: 1, componentIdx: -1 },
    { kind: "float", name: "double", size: 8 },
    { kind: "ptr", targetId: 2 },
  ]);
  const after = parseBtf(sanitizeBtfKinds(blob, true));
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((id) => after.kindOf(id)),
    ["int", "const", "int", "struct", "ptr"],
  );
  const f = after.typeById(4);
  assert.equal(f.kind === "struct" && f.size, 8);
  const p = after.typeById(5);
  assert.equal(p.kind === "ptr" && p.targetId, 2, "ids are unchanged");
});
