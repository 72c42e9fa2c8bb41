import { test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../../src/cli/main.js";
import type { CommandIO } from "../../src/cli/command.js";
import { FIXTURES, readObject, repoPath } from "./corpus.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CommandIO = {
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    readStdin: async () => "",
  };
  const code = await main(["object", ...args], io);
  return { code, out: stdout.join("\n"), err: stderr.join("\n") };
}

test("tsbpf object prints aligned tables of programs, maps, globals and externs", async () => {
  const r = await run(join(FIXTURES, "linked.bpf.o"));
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split("\n");
  const header = lines.find((l) => l.startsWith("NAME  ") && l.includes("SECTION"))!;
  const row = lines.find((l) => l.startsWith("entry_one "))!;
  assert.ok(header && row, r.out);
  // Columns line up: each header word starts where the row's cell starts.
  assert.equal(row.indexOf("tp/syscalls/sys_enter_getpid"), header.indexOf("SECTION"));
  assert.equal(row.indexOf("tracepoint"), header.indexOf("TYPE"));
  assert.match(r.out, /^linked\.rodata +array +4 +16 +1 +0x480 +- +data$/m);
  assert.match(r.out, /^\.rodata +linked\.rodata +16 +ro +limit entry_one\.____fmt$/m);
  assert.match(r.out, /^init_task +ksym var weak +kernel$/m);
});

test("tsbpf object shows pinning, inner maps, initial values and CO-RE relocations", async () => {
  const tc = await run(repoPath("bpf/maps/iproute2_elf_map.bpf.o"));
  assert.match(tc.out, /global-ns \/sys\/fs\/bpf\/tc\/globals\/tc_ingress_bytes +bpf_elf_map/);
  const aom = await run(repoPath("bpf/maps/array_of_maps.bpf.o"));
  assert.match(aom.out, /^ {2}inner: by_parity\.inner +array +4 +8 +1/m);
  assert.match(aom.out, /^ {2}\[1\] = map inner_odd$/m);
  const tail = await run(repoPath("bpf/maps/prog_array_tail_call.bpf.o"));
  assert.match(tail.out, /^ {2}\[0\] = prog tail_tx$/m);
  const core = await run(repoPath("bpf/lang/core_reads.bpf.o"));
  assert.match(core.out, /^CO-RE relocations \(\d+\)$/m);
  assert.match(core.out, /^core_reads +\d+ +byte_off +\[\d+\] struct task_struct +0:\d+$/m);
});

test("tsbpf object --json has a stable structure", async () => {
  const r = await run(repoPath("bpf/maps/array_of_maps.bpf.o"), "--json");
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), [
    "file",
    "name",
    "license",
    "kernelVersion",
    "btf",
    "programs",
    "maps",
    "globals",
    "kconfig",
    "ksyms",
    "coreRelocations",
  ]);
  const programs = j.programs as Record<string, unknown>[];
  assert.deepEqual(programs[0], {
    name: "array_of_maps_count",
    section: "xdp",
    type: "xdp",
    typeId: 6,
    attachType: "xdp",
    attachTo: "",
    sleepable: false,
    instructions: 22,
    functions: ["array_of_maps_count"],
    sourceFile: "./bpf/maps/array_of_maps.bpf.c",
  });
  const outer = (j.maps as Record<string, unknown>[]).find((m) => m.name === "by_parity")!;
  assert.equal(outer.type, "array_of_maps");
  assert.equal((outer.innerMap as Record<string, unknown>).valueSize, 8);
  assert.deepEqual(outer.initialValues, [
    { index: 0, map: "inner_even" },
    { index: 1, map: "inner_odd" },
  ]);
  assert.equal((j.btf as { ext: boolean }).ext, true);
});

test("tsbpf object --type names the type of an unknown section", async () => {
  const plain = JSON.parse((await run(join(FIXTURES, "custom_section.bpf.o"), "--json")).out) as {
    programs: { type: string }[];
  };
  assert.equal(plain.programs[0]!.type, "unspec");
  const typed = JSON.parse(
    (await run(join(FIXTURES, "custom_section.bpf.o"), "--json", "--type", "xdp")).out,
  ) as {
    programs: { type: string }[];
  };
  assert.equal(typed.programs[0]!.type, "xdp");
  assert.equal((await run(join(FIXTURES, "custom_section.bpf.o"), "--type", "nope")).code, 2);
});

test("bad input exits 2 with one line naming the file and the offset", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-object-"));
  try {
    const bad = join(dir, "trunc.bpf.o");
    writeFileSync(bad, readObject(repoPath("bpf/maps/array.bpf.o")).subarray(0, 3000));
    const r = await run(bad);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, /trunc\.bpf\.o: offset \d+: /);
    const missing = await run(join(dir, "missing.o"));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing\.o: cannot read: ENOENT/);
    assert.equal((await run()).code, 2);
    assert.equal((await run("a", "b")).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
