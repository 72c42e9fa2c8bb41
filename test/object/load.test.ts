import { test } from "node:test";
import assert from "node:assert/strict";
import { basename } from "node:path";
import { ElfFile, SHT_REL } from "../../src/elf/index.js";
import { FormatError, NotSupportedError, TsbpfError } from "../../src/errors.js";
import { Class, JumpOp, LDDW, PseudoCall, PseudoLd, decode, slotIndexes } from "../../src/isa/index.js";
import {
  KconfigError,
  MapFlags,
  MapType,
  ProgramType,
  loadObjectFile,
  loadObjectSpec,
  type ObjectSpec,
  type ProgramSpec,
} from "../../src/object/index.js";
import { FIXTURES, corpusObjects, readObject, repoPath } from "./corpus.js";

const CALL = Class.JMP | JumpOp.CALL;
const KCONFIG = {
  LINUX_KERNEL_VERSION: 0x061200,
  CONFIG_BPF_SYSCALL: "y",
  CONFIG_BPF_JIT: "m",
  CONFIG_HZ: 250,
  CONFIG_DEFAULT_HOSTNAME: '"tsbpf"',
};
const load = (path: string, options = {}): ObjectSpec =>
  loadObjectFile(path, { kconfig: KCONFIG, ...options });
const fixture = (name: string): string => `${FIXTURES}/${name}`;
const program = (spec: ObjectSpec, name: string): ProgramSpec => {
  const p = spec.programs.find((x) => x.name === name);
  assert.ok(p, `program ${name}`);
  return p;
};

/** Every BPF-to-BPF call and function address of a linked program lands on the start of one of its functions. */
function checkCallTargets(p: ProgramSpec): number {
  const slots = slotIndexes(p.instructions);
  const starts = new Set(p.functions.map((f) => f.slot));
  let n = 0;
  p.instructions.forEach((insn, i) => {
    const isCall = insn.code === CALL && insn.src === PseudoCall.CALL;
    const isFunc = insn.code === LDDW && insn.src === PseudoLd.FUNC;
    if (!isCall && !isFunc) return;
    const target = slots[i]! + insn.imm + 1;
    assert.ok(starts.has(target), `${p.name}: instruction ${i} targets slot ${target}, not a function start`);
    n++;
  });
  return n;
}

test("every object of the corpus loads, and its programs' calls land on function starts", () => {
  const files = corpusObjects();
  assert.ok(files.length >= 30, `found ${files.length} objects`);
  let programs = 0;
  for (const f of files) {
    const spec = load(f);
    assert.ok(spec.programs.length > 0, `${f} has programs`);
    for (const p of spec.programs) {
      programs++;
      checkCallTargets(p);
      assert.ok(p.instructions.length > 0, `${f} ${p.name} has instructions`);
      // References point at instructions of the right shape.
      for (const r of p.references) {
        const insn = p.instructions[r.index]!;
        if (r.kind === "map") assert.equal(insn.src, PseudoLd.MAP_FD);
        if (r.kind === "map-value") assert.deepEqual([insn.src, insn.imm2], [PseudoLd.MAP_VALUE, r.offset]);
        if (r.kind === "kfunc") assert.deepEqual([insn.code, insn.src], [CALL, PseudoCall.KFUNC]);
        if (r.kind === "map" || r.kind === "map-value") assert.equal(spec.maps[r.mapIndex]?.name, r.map);
      }
      // func_info starts each linked function; offsets are bytes in the program.
      if (p.funcInfo.length > 0)
        assert.deepEqual(
          p.funcInfo.map((fi) => fi.insnOff / 8),
          p.functions.map((fn) => fn.slot),
          `${f} ${p.name} func_info`,
        );
    }
  }
  assert.ok(programs >= files.length, "at least one program per object");
});

test("unlinked code is copied unchanged: a linked function equals its ELF bytes outside references", () => {
  const path = fixture("linked.bpf.o");
  const elf = ElfFile.parse(readObject(path), path);
  const spec = load(path);
  for (const p of spec.programs) {
    const patched = new Set(p.references.map((r) => r.index));
    for (const fn of p.functions) {
      const sym = elf.symbols.find((s) => s.name === fn.name)!;
      const sec = elf.sections[sym.sectionIndex]!;
      const original = decode(sec.data.subarray(sym.value, sym.value + sym.size));
      assert.equal(fn.length, original.length, `${p.name}/${fn.name} length`);
      original.forEach((insn, k) => {
        if (!patched.has(fn.index + k))
          assert.deepEqual(p.instructions[fn.index + k], insn, `${p.name}/${fn.name}+${k}`);
      });
    }
  }
});

test("BPF-to-BPF linking: reachable subprograms only, depth first, calls re-targeted", () => {
  const spec = load(fixture("linked.bpf.o"));
  const one = program(spec, "entry_one");
  assert.deepEqual(
    one.functions.map((f) => f.name),
    ["entry_one", "add_index", "middle", "leaf", "global_helper"],
  );
  assert.deepEqual(
    one.functions.map((f) => f.linkage),
    ["global", "static", "static", "static", "global"],
  );
  assert.equal(checkCallTargets(one), 5); // bpf_loop callback address, middle, leaf x2, global_helper
  const two = program(spec, "entry_two");
  assert.deepEqual(
    two.functions.map((f) => f.name),
    ["entry_two", "leaf"],
  );
  assert.equal(program(spec, "no_calls").functions.length, 1);
  for (const p of spec.programs)
    assert.ok(!p.functions.some((f) => f.name === "never_called"), `${p.name} does not link never_called`);
  // The bpf_loop callback is a function address (lddw src=4) naming add_index.
  const cb = one.references.find((r) => r.kind === "func" && r.function === "add_index")!;
  assert.equal(one.instructions[cb.index]!.src, PseudoLd.FUNC);
  // Line info is re-based: leaf's lines in entry_two start at leaf's slot.
  const leafSlot = two.functions[1]!.slot;
  assert.ok(
    two.lineInfo.some((l) => l.insnOff === leafSlot * 8 && /leaf/.test(l.line)),
    "leaf's first line record is at its slot in entry_two",
  );
  assert.equal(one.sourceFile, "./linked.bpf.c");
});

test("global data: one array map per section, libbpf names, initial bytes, read-only .rodata", () => {
  const spec = load(fixture("linked.bpf.o"));
  const byName = new Map(spec.maps.map((m) => [m.name, m]));
  const data = byName.get("linked.data")!;
  assert.deepEqual([data.type, data.keySize, data.valueSize, data.maxEntries], [MapType.ARRAY, 4, 8, 1]);
  assert.deepEqual([...data.contents!], [7, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(data.flags, MapFlags.MMAPABLE);
  const rodata = byName.get("linked.rodata")!;
  assert.equal(rodata.frozen, true);
  assert.equal(rodata.flags, MapFlags.RDONLY_PROG | MapFlags.MMAPABLE);
  assert.equal(new DataView(rodata.contents!.buffer, rodata.contents!.byteOffset).getUint32(0, true), 100);
  assert.equal(new TextDecoder().decode(rodata.contents!.subarray(4, 15)), "kv %u hz %d");
  const bss = byName.get("linked.bss")!;
  assert.deepEqual([bss.valueSize, bss.contents], [8, undefined]);
  assert.deepEqual([...byName.get(".data.custom")!.contents!], [42, 0, 0, 0]);
  const g = spec.globals.find((x) => x.section === ".rodata")!;
  assert.deepEqual(
    g.variables.map((v) => [v.name, v.offset, v.size, v.linkage]),
    [
      ["limit", 0, 4, "global"],
      ["entry_one.____fmt", 4, 12, "static"],
    ],
  );
  assert.ok(g.btfDatasecId > 0 && g.variables[0]!.btfTypeId > 0, "BTF ids of .rodata");
  // leaf reads `limit` as .rodata+0; entry_one's format string is .rodata+4.
  const two = program(spec, "entry_two");
  const leafRef = two.references.find((r) => r.kind === "map-value" && r.index >= two.functions[1]!.index);
  assert.deepEqual(
    leafRef && [leafRef.kind, "map" in leafRef && leafRef.map, "offset" in leafRef && leafRef.offset],
    ["map-value", "linked.rodata", 0],
  );
  assert.ok(
    program(spec, "entry_one").references.some(
      (r) => r.kind === "map-value" && r.map === "linked.rodata" && r.offset === 4,
    ),
    "format string at .rodata+4",
  );
});

test(".kconfig externs: libbpf layout, caller's values, weak ones zero, required ones an error", () => {
  const spec = load(fixture("linked.bpf.o"));
  assert.deepEqual(
    spec.kconfig.map((k) => [k.name, k.kind, k.offset, k.size]),
    [
      ["CONFIG_BPF_JIT", "tristate", 0, 4],
      ["CONFIG_HZ", "int", 4, 4],
      ["LINUX_KERNEL_VERSION", "int", 8, 4],
      ["CONFIG_BPF_SYSCALL", "bool", 12, 1],
      ["CONFIG_DEFAULT_HOSTNAME", "char-array", 13, 16],
    ],
  );
  const map = spec.maps.find((m) => m.source === "kconfig")!;
  assert.equal(map.name, "linked.kconfig");
  assert.equal(map.frozen, true);
  const v = new DataView(map.contents!.buffer, map.contents!.byteOffset, map.contents!.length);
  assert.deepEqual(
    [v.getUint32(0, true), v.getInt32(4, true), v.getUint32(8, true), v.getUint8(12)],
    [2, 250, 0x061200, 1],
  );
  assert.equal(new TextDecoder().decode(map.contents!.subarray(13, 18)), "tsbpf");
  // Weak externs without a value are zero; a required one is an error naming it.
  const weakOnly = load(fixture("linked.bpf.o"), {
    kconfig: { LINUX_KERNEL_VERSION: 1, CONFIG_BPF_SYSCALL: false },
  });
  const w = weakOnly.maps.find((m) => m.source === "kconfig")!;
  assert.deepEqual([...w.contents!.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(weakOnly.kconfig.find((k) => k.name === "CONFIG_HZ")!.resolved, false);
  assert.throws(
    () => load(fixture("linked.bpf.o"), { kconfig: { LINUX_KERNEL_VERSION: 1 } }),
    (e: unknown) => e instanceof KconfigError && /CONFIG_BPF_SYSCALL/.test(e.message),
  );
  assert.throws(
    () => load(fixture("linked.bpf.o"), { kconfig: { ...KCONFIG, CONFIG_BPF_SYSCALL: "m" } }),
    KconfigError,
  );
  assert.throws(
    () => load(fixture("linked.bpf.o"), { kconfig: { ...KCONFIG, CONFIG_HZ: 1n << 40n } }),
    KconfigError,
  );
  // The kconfig reference is a map value of the .kconfig map at the extern's offset.
  const one = program(spec, "entry_one");
  assert.ok(
    one.references.some((r) => r.kind === "map-value" && r.map === "linked.kconfig" && r.offset === 8),
    "LINUX_KERNEL_VERSION is .kconfig+8",
  );
});

test("kfunc calls and ksym variables are references for the backend", () => {
  const spec = load(fixture("linked.bpf.o"));
  assert.deepEqual(spec.ksyms.map((k) => [k.name, k.kind, k.weak, k.typed]).sort(), [
    ["bpf_prog_active", "var", false, true],
    ["bpf_rcu_read_lock", "func", false, true],
    ["bpf_rcu_read_unlock", "func", false, true],
    ["init_task", "var", true, false],
  ]);
  const two = program(spec, "entry_two");
  const kfuncs = two.references.filter((r) => r.kind === "kfunc");
  assert.deepEqual(
    kfuncs.map((r) => r.kind === "kfunc" && r.name),
    ["bpf_rcu_read_lock", "bpf_rcu_read_unlock"],
  );
  for (const r of kfuncs)
    assert.deepEqual([two.instructions[r.index]!.src, two.instructions[r.index]!.imm], [2, 0]);
  const typed = two.references.find((r) => r.kind === "ksym" && r.name === "bpf_prog_active")!;
  assert.equal(two.instructions[typed.index]!.src, PseudoLd.BTF_ID);
  const untyped = two.references.find((r) => r.kind === "ksym" && r.name === "init_task")!;
  assert.equal(two.instructions[untyped.index]!.src, PseudoLd.IMM64);
});

test("BTF-defined maps: attributes, BTF key/value ids, pin by name", () => {
  const spec = load(repoPath("bpf/maps/pinned_by_name.bpf.o"));
  const m = spec.maps.find((x) => x.name === "tsbpf_pinned_hits")!;
  assert.deepEqual([m.type, m.keySize, m.valueSize, m.maxEntries, m.source], [MapType.ARRAY, 4, 8, 1, "btf"]);
  assert.deepEqual(m.pinning, { kind: "by-name", path: "/sys/fs/bpf/tsbpf_pinned_hits" });
  assert.ok(m.btfKeyTypeId > 0 && m.btfValueTypeId > 0, "BTF key/value ids");
  const rooted = load(repoPath("bpf/maps/pinned_by_name.bpf.o"), { pinRoot: "/run/bpf" });
  assert.equal(
    rooted.maps[0]!.pinning.kind === "by-name" && rooted.maps[0]!.pinning.path,
    "/run/bpf/tsbpf_pinned_hits",
  );
});

test("map-in-map: inner map template and initial slots", () => {
  const spec = load(repoPath("bpf/maps/array_of_maps.bpf.o"));
  const outer = spec.maps.find((m) => m.name === "by_parity")!;
  assert.equal(outer.type, MapType.ARRAY_OF_MAPS);
  assert.deepEqual([outer.keySize, outer.valueSize, outer.maxEntries], [4, 4, 2]);
  const inner = outer.innerMap!;
  assert.deepEqual(
    [inner.name, inner.type, inner.keySize, inner.valueSize, inner.maxEntries],
    ["by_parity.inner", MapType.ARRAY, 4, 8, 1],
  );
  assert.deepEqual(outer.initialValues, [
    { index: 0, map: "inner_even" },
    { index: 1, map: "inner_odd" },
  ]);
  const hom = load(repoPath("bpf/maps/hash_of_maps.bpf.o")).maps.find(
    (m) => m.type === MapType.HASH_OF_MAPS,
  )!;
  assert.ok(hom.innerMap && hom.initialValues.length >= 2, "hash of maps inner map and slots");
});

test("prog array initial values name programs", () => {
  const spec = load(repoPath("bpf/maps/prog_array_tail_call.bpf.o"));
  const jt = spec.maps.find((m) => m.name === "jump_table")!;
  assert.deepEqual([jt.type, jt.keySize, jt.valueSize], [MapType.PROG_ARRAY, 4, 4]);
  assert.deepEqual(jt.initialValues, [{ index: 0, program: "tail_tx" }]);
});

test('legacy struct bpf_map_def in SEC("maps")', () => {
  const spec = load(repoPath("bpf/maps/legacy_bpf_map_def.bpf.o"));
  const m = spec.maps.find((x) => x.name === "proto_packets")!;
  assert.deepEqual(
    [m.source, m.section, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags],
    ["bpf_map_def", "maps", MapType.ARRAY, 4, 8, 256, 0],
  );
  assert.deepEqual(m.pinning, { kind: "none" });
  const p = spec.programs[0]!;
  assert.ok(
    p.references.some((r) => r.kind === "map" && r.map === "proto_packets"),
    "lddw of proto_packets",
  );
});

/** A copy of an object with the 4-byte field at `sectionName`+`at` set to `value`. */
function patchU32(path: string, sectionName: string, at: number, value: number): Uint8Array {
  const bytes = readObject(path).slice();
  const s = ElfFile.parse(bytes).section(sectionName)!;
  new DataView(bytes.buffer).setUint32(s.offset + at, value, true);
  return bytes;
}

test("iproute2 struct bpf_elf_map: pinning 2 = tc globals, 1 = bpffs root, others unsupported", () => {
  const path = repoPath("bpf/maps/iproute2_elf_map.bpf.o");
  const m = load(path).maps.find((x) => x.name === "tc_ingress_bytes")!;
  assert.deepEqual(
    [m.source, m.type, m.keySize, m.valueSize, m.maxEntries],
    ["bpf_elf_map", MapType.ARRAY, 4, 8, 1],
  );
  assert.deepEqual(m.pinning, { kind: "global-ns", path: "/sys/fs/bpf/tc/globals/tc_ingress_bytes" });
  const one = loadObjectSpec(patchU32(path, "maps", 24, 1));
  assert.deepEqual(one.maps[0]!.pinning, { kind: "object-ns", path: "/sys/fs/bpf/tc_ingress_bytes" });
  assert.throws(() => loadObjectSpec(patchU32(path, "maps", 24, 7)), NotSupportedError);
});

test('the legacy single SEC("prog") convention: kprobe by default, the caller\'s type when given', () => {
  const path = repoPath("bpf/progs/legacy_prog_section.bpf.o");
  const spec = load(path);
  const p = spec.programs[0]!;
  assert.deepEqual(
    [p.name, p.section, p.type, p.flags],
    ["count_calls", "prog", ProgramType.KPROBE, ["legacy"]],
  );
  assert.equal(spec.kernelVersion, 0x060000);
  assert.equal(spec.license, "GPL");
  assert.deepEqual(spec.maps[0]!.pinning, { kind: "global-ns", path: "/sys/fs/bpf/tc/globals/calls_by_arg" });
  const typed = load(path, { programType: "socket_filter" }).programs[0]!;
  assert.deepEqual([typed.type, typed.typeName], [ProgramType.SOCKET_FILTER, "socket_filter"]);
});

test("an unknown section is unspec unless the caller names the type", () => {
  const path = fixture("custom_section.bpf.o");
  const p = load(path).programs[0]!;
  assert.deepEqual(
    [p.name, p.section, p.type, p.sectionPattern],
    ["custom_prog", "my_custom_hook", ProgramType.UNSPEC, undefined],
  );
  const typed = load(path, { programType: ProgramType.XDP }).programs[0]!;
  assert.deepEqual([typed.type, typed.typeName], [ProgramType.XDP, "xdp"]);
  // A known section keeps its own type.
  assert.equal(
    load(repoPath("bpf/maps/array.bpf.o"), { programType: "kprobe" }).programs[0]!.type,
    ProgramType.XDP,
  );
  assert.throws(() => load(path, { programType: "no_such_type" }), FormatError);
});

test("program fields: attach target, sleepable, attach type names", () => {
  const tp = load(repoPath("bpf/progs/tracepoint_openat.bpf.o")).programs[0]!;
  assert.deepEqual(
    [tp.typeName, tp.attachTo, tp.autoAttach],
    ["tracepoint", "syscalls/sys_enter_openat", "tracepoint"],
  );
  const sys = load(repoPath("bpf/progs/syscall_args.bpf.o")).programs[0]!;
  assert.equal(sys.sleepable, true);
  const fentry = load(repoPath("bpf/progs/fentry_unlinkat.bpf.o")).programs[0]!;
  assert.deepEqual([fentry.attachTypeName, fentry.attachTo], ["trace_fentry", "do_unlinkat"]);
});

/** The file offset of the first relocation entry applying to `section`. */
function firstRelocation(bytes: Uint8Array, section: string): number {
  const elf = ElfFile.parse(bytes);
  const target = elf.section(section)!;
  const rel = elf.sections.find((s) => s.type === SHT_REL && s.info === target.index)!;
  return rel.offset;
}

test("bad relocations are FormatErrors naming the file, the section and the offset", () => {
  const path = fixture("linked.bpf.o");
  const bytes = readObject(path).slice();
  const at = firstRelocation(bytes, "syscall");
  bytes[at + 8] = 99; // r_info type
  assert.throws(
    () => loadObjectSpec(bytes, { file: "linked.bpf.o", kconfig: KCONFIG }),
    (e: unknown) =>
      e instanceof FormatError &&
      /^linked\.bpf\.o: offset \d+: section syscall\+0: unknown relocation type 99$/.test(e.message),
  );
  // A call relocation moved onto a non-call instruction.
  const moved = readObject(path).slice();
  const v = new DataView(moved.buffer);
  v.setUint32(at, v.getUint32(at, true) + 32, true); // r_offset of the bpf_rcu_read_lock call -> an lddw's 2nd slot or other insn
  assert.throws(() => loadObjectSpec(moved, { file: "x.o", kconfig: KCONFIG }), FormatError);
});

test("non-BPF and damaged files are FormatErrors", () => {
  assert.throws(() => loadObjectSpec(new Uint8Array(10)), FormatError);
  const bytes = readObject(repoPath("bpf/maps/array.bpf.o")).slice();
  bytes[18] = 62; // EM_X86_64
  assert.throws(() => loadObjectSpec(bytes, { file: "a.o" }), /a\.o: offset 18: not a BPF object/);
});

test("loadObjectFile names unreadable files", () => {
  assert.throws(
    () => loadObjectFile("/nonexistent/x.bpf.o"),
    (e: unknown) =>
      e instanceof TsbpfError && /\/nonexistent\/x\.bpf\.o: cannot read: ENOENT/.test(e.message),
  );
  assert.equal(load(repoPath("bpf/maps/array.bpf.o")).name, basename("array"));
});
