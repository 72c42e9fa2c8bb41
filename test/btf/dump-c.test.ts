import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FormatError } from "../../src/errors.js";
import {
  dumpC,
  encodeBtf,
  parseBtf,
  parseBtfExt,
  CoreReloKind,
  type Btf,
  type BtfType,
  type EncodableType,
} from "../../src/btf/index.js";
import { elfSection, noVmlinux, vmlinux, VMLINUX } from "./fixtures.js";

function has(cmd: string, arg = "--version"): boolean {
  return spawnSync(cmd, [arg], { stdio: "ignore" }).status === 0;
}
const noClang = has("clang-19") ? false : "clang-19 not installed";
const noBpftool = has("bpftool", "version") ? false : "bpftool not installed";

/** A small BTF with the constructs that make C declarations hard. */
function tricky(): Btf {
  const m = (name: string, typeId: number, bitOffset: number, bitfieldSize = 0) => ({
    name,
    typeId,
    bitOffset,
    bitfieldSize,
  });
  const types: EncodableType[] = [
    /* 1 */ { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    /* 2 */ { kind: "int", name: "char", size: 1, encoding: 1, bitOffset: 0, bits: 8 },
    /* 3 */ { kind: "ptr", targetId: 13 }, // struct node *
    /* 4 */ {
      kind: "func_proto",
      returnId: 1,
      params: [
        { name: "n", typeId: 3 },
        { name: "", typeId: 0 },
      ],
    }, // int (struct node *n, ...)
    /* 5 */ { kind: "ptr", targetId: 4 },
    /* 6 */ { kind: "typedef", name: "visit_fn", targetId: 5 },
    /* 7 */ { kind: "array", elementId: 5, indexId: 1, length: 4 }, // int (*[4])(...)
    /* 8 */ { kind: "array", elementId: 2, indexId: 1, length: 3 },
    /* 9 */ { kind: "array", elementId: 8, indexId: 1, length: 2 }, // char [2][3]
    /* 10 */ { kind: "ptr", targetId: 8 }, // char (*)[3]
    /* 11 */ { kind: "struct", name: "", size: 8, members: [m("lo", 1, 0), m("hi", 1, 32)] },
    /* 12 */ { kind: "union", name: "", size: 8, members: [m("", 11, 0), m("raw", 17, 0)] },
    /* 13 */ {
      kind: "struct",
      name: "node",
      size: 88,
      members: [
        m("next", 3, 0),
        m("visit", 6, 64),
        m("table", 7, 128),
        m("grid", 9, 384),
        m("row", 10, 448),
        m("", 12, 512),
        m("a", 1, 576, 3),
        m("b", 1, 579, 5),
        m("color", 14, 608),
        m("c", 2, 640),
      ],
    },
    /* 14 */ {
      kind: "enum",
      name: "",
      size: 4,
      values: [
        { name: "RED", value: 0 },
        { name: "BLUE", value: -1 },
      ],
    },
    /* 15 */ { kind: "const", targetId: 2 },
    /* 16 */ { kind: "ptr", targetId: 15 }, // const char *
    /* 17 */ { kind: "int", name: "long unsigned int", size: 8, encoding: 0, bitOffset: 0, bits: 64 },
    /* 18 */ { kind: "struct", name: "packed", size: 5, members: [m("x", 2, 0), m("y", 1, 8)] },
    /* 19 */ { kind: "struct", name: "node", size: 4, members: [m("dup", 1, 0)] }, // a second 'node'
    /* 20 */ { kind: "func_proto", returnId: 16, params: [{ name: "", typeId: 0 }] }, // const char *(void)
    /* 21 */ { kind: "ptr", targetId: 20 },
    /* 22 */ {
      kind: "struct",
      name: "holder",
      size: 16,
      members: [m("name_fn", 21, 0), m("p", 18, 64), m("d", 19, 104)],
    },
    /* 23 */ { kind: "fwd", name: "opaque" },
    /* 24 */ { kind: "ptr", targetId: 23 },
    /* 25 */ { kind: "typedef", name: "opaque_t", targetId: 24 },
    /* 26 */ { kind: "enum64", name: "big", size: 8, values: [{ name: "BIG", value: 1n << 40n }] },
  ];
  return parseBtf(encodeBtf(types), { file: "tricky.btf" });
}

test("C declarations: function pointers, arrays, anonymous members, bitfields, packing, duplicates", () => {
  const c = dumpC(tricky(), { header: false });
  const expect = [
    "struct node;",
    "typedef int (*visit_fn)(struct node *, ...);".replace("struct node *,", "struct node *n,"),
    "struct node {\n\tstruct node *next;\n\tvisit_fn visit;\n\tint (*table[4])(struct node *, ...);".replace(
      /\(struct node \*,/,
      "(struct node *n,",
    ),
    "\tchar grid[2][3];\n\tchar (*row)[3];",
    "\tunion {\n\t\tstruct {\n\t\t\tint lo;\n\t\t\tint hi;\n\t\t};\n\t\tlong unsigned int raw;\n\t};",
    "\tint a: 3;\n\tint b: 5;",
    "\tenum {\n\t\tRED = 0,\n\t\tBLUE = -1,\n\t} color;",
    "struct packed {\n\tchar x;\n\tint y;\n} __attribute__((packed));",
    "struct node___2 {\n\tint dup;\n};",
    "\tconst char * (*name_fn)(void);",
    "struct opaque;",
    "typedef struct opaque *opaque_t;",
    "enum big {\n\tBIG = 1099511627776ULL,\n};",
  ];
  for (const e of expect) assert.ok(c.includes(e), `missing:\n${e}\n--- in ---\n${c}`);
  assert.ok(c.indexOf("struct node;") < c.indexOf("typedef int (*visit_fn)"), "forward declaration first");
  assert.ok(c.indexOf("struct packed {") < c.indexOf("struct holder {"), "embedded struct defined first");
});

test("C dump of a small BTF matches bpftool's", { skip: noBpftool }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
  try {
    const path = join(dir, "tricky.btf");
    writeFileSync(path, tricky().bytes);
    const theirs = execFileSync("bpftool", ["btf", "dump", "file", path, "format", "c"], {
      encoding: "utf8",
    });
    assert.equal(dumpC(tricky()), theirs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reference loops end in FormatError, not a hang", () => {
  const loop = parseBtf(
    encodeBtf([
      { kind: "typedef", name: "a", targetId: 2 },
      { kind: "typedef", name: "b", targetId: 1 },
      {
        kind: "struct",
        name: "s",
        size: 8,
        members: [{ name: "x", typeId: 1, bitOffset: 0, bitfieldSize: 0 }],
      },
    ]),
    { file: "loop.btf" },
  );
  assert.throws(
    () => dumpC(loop),
    (e: unknown) => e instanceof FormatError && e.file === "loop.btf" && e.offset !== undefined,
  );
  const self = parseBtf(
    encodeBtf([
      {
        kind: "struct",
        name: "s",
        size: 8,
        members: [{ name: "x", typeId: 1, bitOffset: 0, bitfieldSize: 0 }],
      },
    ]),
  );
  assert.throws(() => dumpC(self), /unsatisfiable type cycle/);
});

/** Structs whose layout depends on va_list, which differs between x86 (the kernel) and BPF. */
function usesVaList(t: BtfType, seen = new Map<number, boolean>(), depth = 0): boolean {
  if (depth > 40) return false;
  const known = seen.get(t.id);
  if (known !== undefined) return known;
  seen.set(t.id, false);
  let r = false;
  if (t.kind === "typedef")
    r = t.name === "va_list" || t.name === "__builtin_va_list" || usesVaList(t.target, seen, depth + 1);
  else if (t.kind === "array") r = usesVaList(t.element, seen, depth + 1);
  else if (t.kind === "const" || t.kind === "volatile") r = usesVaList(t.target, seen, depth + 1);
  else if (t.kind === "struct" || t.kind === "union")
    r = t.members.some((m) => usesVaList(m.type, seen, depth + 1));
  seen.set(t.id, r);
  return r;
}

test(
  "vmlinux.h from our dump compiles, has the kernel's layouts, and CO-RE reads relocate",
  { skip: noVmlinux || noClang },
  () => {
    const btf = parseBtf(vmlinux(), { file: VMLINUX });
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-"));
    try {
      writeFileSync(join(dir, "vmlinux.h"), dumpC(btf));
      // every uniquely named struct: size and member offsets as in BTF
      const asserts = ['#include "vmlinux.h"'];
      const seen = new Map<number, boolean>();
      for (const t of btf.types()) {
        if ((t.kind !== "struct" && t.kind !== "union") || !t.name || btf.idsByName(t.name).length !== 1)
          continue;
        if (usesVaList(t, seen)) continue;
        asserts.push(`_Static_assert(sizeof(${t.kind} ${t.name}) == ${t.size}, "${t.name}");`);
        for (const m of t.members) {
          if (m.name && !m.bitfieldSize) {
            asserts.push(
              `_Static_assert(__builtin_offsetof(${t.kind} ${t.name}, ${m.name}) * 8 == ${m.bitOffset}, "${t.name}.${m.name}");`,
            );
          }
        }
      }
      assert.ok(asserts.length > 1000);
      writeFileSync(join(dir, "layout.c"), asserts.join("\n") + "\n");
      execFileSync("clang-19", ["-target", "bpf", "-fsyntax-only", "layout.c"], { cwd: dir, stdio: "pipe" });

      writeFileSync(
        join(dir, "prog.bpf.c"),
        `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
int seen_pid, seen_ppid;
char seen_comm[16];
SEC("tp_btf/sched_process_exec")
int on_exec(u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	seen_pid = BPF_CORE_READ(task, pid);
	seen_ppid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&seen_comm, task, comm);
	return bpf_core_type_size(struct sk_buff);
}
`,
      );
      execFileSync("clang-19", ["-O2", "-g", "-target", "bpf", "-c", "prog.bpf.c", "-o", "prog.bpf.o"], {
        cwd: dir,
        stdio: "pipe",
      });
      const obj = join(dir, "prog.bpf.o");
      const local = parseBtf(elfSection(obj, ".BTF"), { file: obj });
      const ext = parseBtfExt(elfSection(obj, ".BTF.ext"), local, { file: obj });
      const relos = ext.coreRelos.get("tp_btf/sched_process_exec");
      assert.ok(relos && relos.length >= 4);
      const task = btf.typeByName("task_struct", "struct")!;
      const pidIndex = task.members.findIndex((m) => m.name === "pid");
      const pidRelo = relos.find(
        (r) => r.kind === CoreReloKind.FieldByteOffset && r.accessStr === `0:${pidIndex}`,
      );
      assert.ok(pidRelo, `a byte_off relocation for task_struct.pid (0:${pidIndex})`);
      assert.equal(local.typeById(pidRelo.typeId).name, "task_struct");
      assert.ok(
        relos.some((r) => r.kind === CoreReloKind.TypeSize && local.typeById(r.typeId).name === "sk_buff"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "our vmlinux.h equals bpftool's (libbpf 1.1) but for enum size attributes",
  { skip: noVmlinux || noBpftool },
  (t) => {
    const version = execFileSync("bpftool", ["version"], { encoding: "utf8" });
    if (!/libbpf v1\.1\b/.test(version)) {
      t.skip(
        `bpftool built with another libbpf (${version.split("\n")[1] ?? "?"}): its padding style differs`,
      );
      return;
    }
    const theirs = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "c"], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    // libbpf 1.1 does not mark 1- and 2-byte enums; we do, so that their size is right
    const ours = dumpC(parseBtf(vmlinux())).replace(/ __attribute__\(\(mode\((byte|HI|DI)\)\)\)/g, "");
    assert.ok(ours === theirs, "C dump differs from bpftool's");
  },
);
