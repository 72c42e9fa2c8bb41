// CO-RE against the running kernel's BTF: the corpus objects, clang's own offsets on the
// kernel's vmlinux.h, every bitfield of a few kernel structs, and a program that asks for
// fields, types and enumerators that no kernel has.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import {
  CoreReloKind as K,
  CORE_POISON_CALL,
  CORE_POISON_LDDW,
  loadKernelBtf,
  parseCoreSpec,
  resolveCoreRelocations,
  type Btf,
  type CoreRelo,
  type CoreRelocationResult,
} from "../../../src/btf/index.js";
import type { Instruction } from "../../../src/isa/index.js";
import { loadObjectFile } from "../../../src/object/index.js";
import { repoRoot } from "../../helpers/shared.js";
import {
  compileBpf,
  mov,
  noToolchain,
  noVmlinux,
  readObject,
  rodataSymbol,
  type RawObject,
} from "./helpers.js";

function corpusObjects(): RawObject[] {
  const out: RawObject[] = [];
  const root = join(repoRoot, "bpf");
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(root, dir.name))) {
      if (!f.endsWith(".bpf.o")) continue;
      const obj = readObject(join(root, dir.name, f));
      if (obj && obj.ext.coreRelos.size > 0) out.push(obj);
    }
  }
  return out;
}

function resolveSection(obj: RawObject, section: string, kernel: Btf) {
  return resolveCoreRelocations({
    localBtf: obj.btf,
    targetBtf: kernel,
    relos: obj.ext.coreRelos.get(section)!,
    instructions: obj.sections.get(section)!,
    programName: section,
    lineInfo: obj.ext.lineInfos.get(section),
  });
}

/** True when the field a byte_off result reads is a bitfield (offsetof cannot name it). */
function isBitfield(obj: RawObject, relo: CoreRelo): boolean {
  const spec = parseCoreSpec(obj.btf, relo.typeId, relo.accessStr, relo.kind);
  const last = spec.accessors[spec.accessors.length - 1]!;
  const t = obj.btf.typeById(last.typeId);
  return (
    last.name !== undefined &&
    (t.kind === "struct" || t.kind === "union") &&
    t.members[last.index]!.bitfieldSize > 0
  );
}

test(
  "corpus CO-RE objects: every relocation resolves on this kernel and byte offsets equal clang's offsetof",
  { skip: noToolchain },
  () => {
    const kernel = loadKernelBtf();
    const objects = corpusObjects();
    assert.ok(objects.length >= 8, `found ${objects.length} corpus objects with CO-RE relocations`);
    const checks: { where: string; expr: string; value: bigint }[] = [];
    let total = 0;
    for (const obj of objects) {
      for (const section of obj.ext.coreRelos.keys()) {
        const out = resolveSection(obj, section, kernel);
        const relos = obj.ext.coreRelos.get(section)!;
        total += out.results.length;
        assert.deepEqual(out.poisoned, [], `${obj.path} ${section}: nothing poisoned`);
        for (const r of out.results) {
          // only existence checks may miss (core_reads.bpf.c asks for a pre-5.14 field on purpose)
          const existence = r.kind === K.FieldExists || r.kind === K.EnumvalExists || r.kind === K.TypeExists;
          assert.ok(
            r.target || (existence && r.value === 0n),
            `${obj.path}: ${r.access} found in the kernel`,
          );
          if (r.kind !== K.FieldByteOffset || isBitfield(obj, relos[r.relocation]!)) continue;
          // "struct task_struct.real_parent" -> __builtin_offsetof(struct task_struct, real_parent)
          const m = /^((?:struct |union )?[\w]+)[.](.+)$/.exec(r.access);
          assert.ok(m, r.access);
          checks.push({
            where: `${obj.path} ${r.access}`,
            expr: `__builtin_offsetof(${m[1]}, ${m[2]})`,
            value: r.value,
          });
        }
      }
    }
    assert.ok(total >= 40, `${total} relocations`);
    const path = compileBpf(
      "offsets",
      `#include "vmlinux.h"\nconst unsigned long long offs[] = {\n${checks.map((c) => `\t${c.expr},`).join("\n")}\n};\n`,
    );
    const bytes = rodataSymbol(path, "offs");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(bytes.length, checks.length * 8);
    checks.forEach((c, i) => assert.equal(c.value, view.getBigUint64(i * 8, true), c.where));
    assert.ok(checks.length >= 30, `${checks.length} offsets cross-checked`);
  },
);

test(
  "core_reads.bpf.o: existence checks, flavors, enum values and bitfields on this kernel",
  { skip: noVmlinux },
  () => {
    const kernel = loadKernelBtf();
    const obj = readObject(join(repoRoot, "bpf/lang/core_reads.bpf.o"))!;
    const out = resolveSection(obj, "raw_tp/sys_enter", kernel);
    const by = (access: string, kind: K): CoreRelocationResult => {
      const r = out.results.find((x) => x.access === access && x.kind === kind);
      assert.ok(r, `${access} <${kind}>`);
      return r;
    };
    const task = kernel.typeByName("task_struct", "struct")!;
    const field = (name: string) => task.members.find((mm) => mm.name === name)!;
    assert.equal(by("struct task_struct.__state", K.FieldExists).value, 1n);
    const pre514 = by("struct task_struct___pre514.state", K.FieldExists);
    assert.equal(pre514.value, 0n);
    assert.equal(pre514.missing, "no field 'state' in struct task_struct");
    assert.equal(by("struct bpf_iter_num", K.TypeExists).value, 1n);
    assert.equal(by("enum bpf_map_type::BPF_MAP_TYPE_RINGBUF", K.EnumvalValue).value, 27n);
    const imaginary = by("enum bpf_map_type___tsbpf::BPF_MAP_TYPE_TSBPF_IMAGINARY___tsbpf", K.EnumvalExists);
    assert.equal(imaginary.value, 0n);
    assert.equal(imaginary.missing, "no enumerator 'BPF_MAP_TYPE_TSBPF_IMAGINARY' in enum bpf_map_type");
    assert.equal(by("struct task_struct.comm", K.FieldByteSize).value, 16n);
    assert.equal(by("struct task_struct.tgid", K.FieldByteOffset).value, BigInt(field("tgid").bitOffset / 8));

    // the bitfield: the patched offset, size and shifts pull the bit out of the kernel's layout
    const bit = field("sched_reset_on_fork");
    assert.equal(bit.bitfieldSize, 1);
    const off = Number(by("struct task_struct.sched_reset_on_fork", K.FieldByteOffset).value);
    const size = Number(by("struct task_struct.sched_reset_on_fork", K.FieldByteSize).value);
    const lshift = by("struct task_struct.sched_reset_on_fork", K.FieldLShiftU64).value;
    const rshift = by("struct task_struct.sched_reset_on_fork", K.FieldRShiftU64).value;
    assert.equal(by("struct task_struct.sched_reset_on_fork", K.FieldSigned).value, 0n);
    const memory = new Uint8Array(task.size + 8);
    memory[bit.bitOffset >> 3] = 1 << (bit.bitOffset & 7);
    let word = 0n;
    for (let i = size - 1; i >= 0; i--) word = (word << 8n) | BigInt(memory[off + i]!);
    assert.equal(BigInt.asUintN(64, word << lshift) >> rshift, 1n);
    assert.ok(off <= bit.bitOffset / 8 && bit.bitOffset / 8 < off + size);
  },
);

test(
  "every bitfield of task_struct, sk_buff and sock extracts correctly with the computed relocations",
  { skip: noVmlinux },
  () => {
    const kernel = loadKernelBtf();
    let fields = 0;
    for (const name of ["task_struct", "sk_buff", "sock", "inode"]) {
      const t = kernel.typeByName(name, "struct")!;
      t.members.forEach((mm, i) => {
        if (mm.bitfieldSize === 0) return;
        fields++;
        const access = `0:${i}`;
        const relos: CoreRelo[] = [
          K.FieldByteOffset,
          K.FieldByteSize,
          K.FieldLShiftU64,
          K.FieldRShiftU64,
        ].map((kind, slot) => ({
          insnOff: slot * 8,
          typeId: t.id,
          accessStr: access,
          accessStrOff: 0,
          kind,
        }));
        const instructions: Instruction[] = [mov(0), mov(0), mov(0), mov(64 - mm.bitfieldSize)];
        const [off, size, lshift, rshift] = resolveCoreRelocations({
          localBtf: kernel,
          targetBtf: kernel,
          relos,
          instructions,
          programName: "bitfields",
        }).results.map((r) => r.value);
        // a field of all ones amid zeros, and zeros amid ones
        for (const ones of [true, false]) {
          const memory = new Uint8Array(t.size + 8).fill(ones ? 0 : 0xff);
          for (let b = mm.bitOffset; b < mm.bitOffset + mm.bitfieldSize; b++) {
            if (ones) memory[b >> 3]! |= 1 << (b & 7);
            else memory[b >> 3]! &= ~(1 << (b & 7));
          }
          let word = 0n;
          for (let k = Number(size) - 1; k >= 0; k--) word = (word << 8n) | BigInt(memory[Number(off) + k]!);
          const got = BigInt.asUintN(64, word << lshift!) >> rshift!;
          assert.equal(got, ones ? (1n << BigInt(mm.bitfieldSize)) - 1n : 0n, `${name}.${mm.name}`);
        }
      });
    }
    assert.ok(fields >= 10, `${fields} bitfields`);
  },
);

const FAKE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___fake {
	int nonexistent_field;
} __attribute__((preserve_access_index));

struct tsbpf_no_such_type {
	int x;
} __attribute__((preserve_access_index));

enum tsbpf_enum___x { TSBPF_NO_VALUE = 7 };

int out_field, out_exists, out_type, out_enum;
unsigned long long out_id, out_size, out_matches, out_matches_task;

SEC("tp_btf/sched_switch")
int fake(unsigned long long *ctx)
{
	struct task_struct___fake *f = (void *)bpf_get_current_task();

	out_exists = bpf_core_field_exists(f->nonexistent_field);
	if (bpf_core_field_exists(f->nonexistent_field))
		out_field = f->nonexistent_field;
	out_type = bpf_core_type_exists(struct tsbpf_no_such_type);
	out_id = bpf_core_type_id_kernel(struct task_struct);
	out_size = bpf_core_type_size(struct task_struct);
	out_matches = bpf_core_type_matches(struct list_head);
	/* libbpf compares integer names too: clang's "unsigned long" is not the kernel's "long unsigned int" */
	out_matches_task = bpf_core_type_matches(struct task_struct);
	if (bpf_core_enum_value_exists(enum tsbpf_enum___x, TSBPF_NO_VALUE))
		out_enum = bpf_core_enum_value(enum tsbpf_enum___x, TSBPF_NO_VALUE);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

test(
  "a program asking for what no kernel has: existence 0, guarded reads poisoned, errors name line and field",
  { skip: noToolchain },
  () => {
    const kernel = loadKernelBtf();
    const path = compileBpf("fake", FAKE);
    const obj = readObject(path)!;
    const out = resolveSection(obj, "tp_btf/sched_switch", kernel);
    const of = (kind: K) => out.results.filter((r) => r.kind === kind);
    const exists = of(K.FieldExists);
    assert.ok(exists.length >= 1);
    for (const r of exists) {
      assert.equal(r.value, 0n);
      assert.equal(r.access, "struct task_struct___fake.nonexistent_field");
      assert.equal(r.missing, "no field 'nonexistent_field' in struct task_struct");
    }
    const [read] = of(K.FieldByteOffset);
    assert.ok(read?.poisoned, "the guarded read is poisoned");
    assert.deepEqual(out.instructions[read.instruction], CORE_POISON_CALL);
    const lineNo = FAKE.split("\n").findIndex((l) => l.includes("out_field = f->nonexistent_field")) + 1;
    assert.equal(read.source?.line, lineNo);
    assert.equal(read.source?.text, "out_field = f->nonexistent_field;");
    assert.match(read.source!.file, /fake\.bpf\.c$/);
    const msg = read.error!.message;
    for (const part of [
      "prog 'tp_btf/sched_switch'",
      `fake.bpf.c:${lineNo} "out_field = f->nonexistent_field;"`,
      "struct task_struct___fake.nonexistent_field",
      "no field 'nonexistent_field' in struct task_struct",
      "<byte_off>",
    ]) {
      assert.ok(msg.includes(part), `${msg}\n  lacks ${part}`);
    }
    assert.ok(!/0xbad2310|195896080/.test(msg), "no magic constant in the message");

    assert.equal(of(K.TypeExists)[0]!.value, 0n);
    assert.match(
      of(K.TypeExists)[0]!.missing!,
      /^no struct named 'tsbpf_no_such_type' in \/sys\/kernel\/btf\/vmlinux$/,
    );
    const task = kernel.typeByName("task_struct", "struct")!;
    assert.equal(of(K.TypeIdTarget)[0]!.value, BigInt(task.id));
    assert.equal(of(K.TypeSize)[0]!.value, BigInt(task.size));
    const matches = of(K.TypeMatches);
    assert.deepEqual(
      matches.map((r) => [r.access, r.value]),
      [
        ["struct list_head", 1n],
        ["struct task_struct", 0n],
      ],
    );
    assert.match(
      matches[1]!.missing!,
      /^struct task_struct does not match local struct task_struct: member '[\w.]+' is long unsigned int, locally unsigned long$/,
    );
    assert.equal(of(K.EnumvalExists)[0]!.value, 0n);
    const enumValue = of(K.EnumvalValue)[0]!;
    assert.ok(enumValue.poisoned);
    assert.deepEqual(out.instructions[enumValue.instruction], CORE_POISON_LDDW);
    assert.match(
      enumValue.error!.message,
      /enum tsbpf_enum___x::TSBPF_NO_VALUE: no enum named 'tsbpf_enum' in /,
    );
    assert.equal(out.instructions.length, obj.sections.get("tp_btf/sched_switch")!.length);
    assert.deepEqual(
      out.poisoned.map((p) => p.kindName),
      ["byte_off", "enumval_value"],
    );
  },
);

test("linked programs from the object loader resolve like their sections", { skip: noVmlinux }, () => {
  const kernel = loadKernelBtf();
  for (const file of ["bpf/lang/core_reads.bpf.o", "bpf/scenarios/bpf_loop_task_walk.bpf.o"]) {
    const spec = loadObjectFile(join(repoRoot, file), { kconfig: {} });
    for (const p of spec.programs) {
      if (p.coreRelos.length === 0) continue;
      const out = resolveCoreRelocations({
        localBtf: spec.btf!,
        targetBtf: kernel,
        relos: p.coreRelos,
        instructions: p.instructions,
        programName: p.name,
        lineInfo: p.lineInfo,
      });
      assert.equal(out.results.length, p.coreRelos.length);
      for (const r of out.results) {
        assert.ok(r.source, `${file} ${p.name}: ${r.access} has a source line`);
        if (r.kind === K.FieldByteOffset) {
          const insn = out.instructions[r.instruction]!;
          assert.ok(insn.imm === Number(r.value) || insn.off === Number(r.value), `${r.access} patched`);
        }
      }
    }
  }
});
