import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { test } from "node:test";
import {
  AttachError,
  attachProgram,
  sectionAttachment,
  syscallSymbol,
  type AttachKind,
} from "../../src/kernel/attach.js";
import { NotSupportedError } from "../../src/errors.js";
import { ensureBpffs } from "../../src/kernel/index.js";
import { load } from "../../src/load.js";
import { loadObjectFile, matchSection, type ProgramSpec } from "../../src/object/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";
import { bpftoolList, eventually, root, spawnTsbpf, tsbpf } from "./load-fixtures.js";

/** The first program of a corpus object. */
const corpusProgram = (path: string): ProgramSpec => loadObjectFile(`${root}bpf/${path}`).programs[0]!;

/** A program spec as the object loader makes it for `section` (only what attaching reads). */
function sectionSpec(section: string): ProgramSpec {
  const m = matchSection(section)!;
  return {
    name: "p",
    section,
    type: m.def.programType,
    typeName: "t",
    attachType: m.def.attachType,
    attachTo: m.attachTo,
    flags: m.def.flags,
    autoAttach: m.def.autoAttach,
  } as unknown as ProgramSpec;
}

test("section → hook: the corpus objects attach like libbpf's auto-attach (plus option-driven hooks)", () => {
  const cases: [string, AttachKind | undefined, string][] = [
    ["progs/tracepoint_openat.bpf.o", "tracepoint", "syscalls/sys_enter_openat"],
    ["progs/raw_tp.bpf.o", "raw_tracepoint", "sys_enter"],
    ["progs/tp_btf_sched_switch.bpf.o", "tp_btf", "sched_switch"],
    ["progs/fentry_unlinkat.bpf.o", "fentry", "do_unlinkat"],
    ["progs/lsm_file_open.bpf.o", "lsm", "file_open"],
    ["progs/iter_task.bpf.o", "iter", "task"],
    ["progs/kprobe_unlinkat.bpf.o", "kprobe", "do_unlinkat"],
    ["progs/xdp_frags.bpf.o", "xdp", ""],
    ["progs/tcx_ingress.bpf.o", "tcx", ""],
    ["progs/cgroup_skb_ingress.bpf.o", "cgroup", ""],
    ["progs/perf_event_profile.bpf.o", "perf_event", ""],
  ];
  for (const [path, kind, target] of cases) {
    const where = sectionAttachment(corpusProgram(path));
    assert.deepEqual(where, { kind, target }, path);
  }
});

test("section → hook: return probes, syscalls, uprobes, and sections that name nothing", () => {
  const kinds: [string, AttachKind, string][] = [
    ["kretprobe/do_unlinkat", "kretprobe", "do_unlinkat"],
    ["kprobe/do_unlinkat+0x10", "kprobe", "do_unlinkat+0x10"],
    ["ksyscall/openat", "ksyscall", "openat"],
    ["kretsyscall/openat", "kretsyscall", "openat"],
    ["uprobe//usr/bin/bash:readline", "uprobe", "/usr/bin/bash:readline"],
    ["uretprobe/libc.so.6:malloc", "uretprobe", "libc.so.6:malloc"],
    ["uprobe.multi//usr/bin/bash:read*", "uprobe.multi", "/usr/bin/bash:read*"],
    ["kretprobe.multi/vfs_*", "kretprobe.multi", "vfs_*"],
    ["tp/sched/sched_switch", "tracepoint", "sched/sched_switch"],
    ["raw_tp.w/sys_enter", "raw_tracepoint", "sys_enter"],
    ["fexit/do_unlinkat", "fexit", "do_unlinkat"],
    ["fmod_ret/security_file_open", "fmod_ret", "security_file_open"],
    ["freplace/handler", "freplace", "handler"],
    ["tcx/egress", "tcx", ""],
    ["netkit/peer", "netkit", ""],
  ];
  for (const [section, kind, target] of kinds)
    assert.deepEqual(sectionAttachment(sectionSpec(section)), { kind, target }, section);
  const reasons: [string, RegExp][] = [
    ["kprobe", /section 'kprobe' names no kprobe target \(like libbpf, not auto-attached\)/],
    ["tracepoint", /names no tracepoint target/],
    ["syscall", /syscall programs are run, not attached/],
    ["socket", /socket filters attach to a socket/],
    ["xdp/devmap", /xdp\/devmap programs run from a map entry/],
    ["usdt/libc.so.6:libc:setjmp", /USDT probes cannot be attached by tsbpf yet/],
    ["prog", /section 'prog' names no hook tsbpf can attach to/],
  ];
  for (const [section, reason] of reasons) {
    const where = sectionAttachment(sectionSpec(section));
    assert.equal(where.kind, undefined, section);
    assert.match((where as { reason: string }).reason, reason);
  }
});

test("bad targets and missing options are AttachErrors before any syscall", () => {
  const bad: [AttachKind, string, RegExp][] = [
    ["tracepoint", "sys_enter_openat", /tracepoint: bad target 'sys_enter_openat' \(CATEGORY\/NAME/],
    ["kprobe", "f+x", /kprobe: bad target 'f\+x' \(FUNC or FUNC\+OFFSET\)/],
    [
      "uprobe",
      "/bin/true",
      /uprobe: bad target '\/bin\/true' \(BINARY:FUNCTION\[\+OFFSET\] or BINARY:OFFSET\)/,
    ],
    ["xdp", "", /xdp needs a network interface/],
    ["tcx", "", /tcx needs a network interface/],
    ["cgroup", "", /cgroup needs a cgroup v2 directory/],
    ["perf_event", "bogus", /perf_event: unknown event 'bogus'/],
    ["perf_event", "cpu-clock", /perf_event needs a sampling frequency or period/],
    ["raw_tracepoint", "", /raw_tracepoint needs a target \(NAME\)/],
  ];
  for (const [kind, target, message] of bad)
    assert.throws(
      () => attachProgram(-1, kind, target),
      (e: unknown) => e instanceof AttachError && message.test(e.message),
      `${kind} ${target}`,
    );
});

test("ksyscall targets are the architecture's syscall entry points", { skip: process.arch !== "x64" }, () => {
  const kallsyms = existsSync("/proc/kallsyms") ? readFileSync("/proc/kallsyms", "utf8") : "";
  const symbol = syscallSymbol("openat");
  assert.ok(symbol === "__x64_sys_openat" || symbol === "sys_openat");
  if (kallsyms.includes(" __x64_sys_bpf\n")) assert.equal(symbol, "__x64_sys_openat");
});

test("attach: usage errors are one line and exit 2", async () => {
  const unknown = await tsbpf("attach", "1", "frob");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^tsbpf attach: unknown KIND 'frob' \(tracepoint, raw_tracepoint, .*cgroup\)$/m);
  const fixed = await tsbpf("attach", "1", "fentry", "do_unlinkat");
  assert.equal(fixed.code, 2);
  assert.match(
    fixed.err,
    /fentry takes no TARGET: the target of a fentry program is chosen when it is loaded/,
  );
  const target = await tsbpf("attach", "1", "tracepoint");
  assert.equal(target.code, 2);
  assert.match(target.err, /tracepoint needs a TARGET \(CATEGORY\/NAME\)/);
  const prog = await tsbpf("attach");
  assert.equal(prog.code, 2);
  assert.match(prog.err, /missing PROG/);
});

test("load(): programs of the VM backend cannot attach to kernel hooks", async () => {
  await using obj = await load(`${root}bpf/progs/tracepoint_openat.bpf.o`, { backend: "vm" });
  assert.throws(() => obj.program("tracepoint_openat").attach(), NotSupportedError);
});

describeKernel("tsbpf attach on the running kernel", () => {
  kernelTest("load(): program.attach() attaches by section name; closing the link detaches", async () => {
    await using obj = await load(`${root}bpf/progs/tracepoint_openat.bpf.o`);
    const a = obj.program("tracepoint_openat").attach();
    assert.equal(a.description, "tracepoint/syscalls/sys_enter_openat");
    const id = a.link.info().id;
    assert.ok(bpftoolList("link").some((l) => l.id === id));
    a.link.close();
    assert.ok(await eventually(() => !bpftoolList("link").some((l) => l.id === id)));
  });

  /** Loads a corpus object with its programs pinned in a fresh directory. */
  async function pinned(object: string): Promise<string> {
    const dir = `${ensureBpffs()}/${uniqueName("tsbpf_at")}`;
    const r = await tsbpf("load", `${root}bpf/${object}`, "--pin-progs", dir);
    assert.equal(r.code, 0, r.err);
    return dir;
  }

  kernelTest("tracepoint by pinned path with --pin: the link outlives the command", async () => {
    const dir = await pinned("scenarios/hello_world.bpf.o");
    try {
      const r = await tsbpf(
        "attach",
        `${dir}/hello_world`,
        "tracepoint",
        "syscalls/sys_enter_getpid",
        "--pin",
        `${dir}/link`,
      );
      assert.equal(r.code, 0, r.err);
      const m =
        /^attached tracepoint\/syscalls\/sys_enter_getpid \(prog 'hello_world' id (\d+), link id (\d+)\), pinned at (\S+)$/m.exec(
          r.out,
        );
      assert.ok(m, r.out);
      assert.equal(m[3], `${dir}/link`);
      const link = bpftoolList("link").find((l) => l.id === Number(m[2]));
      assert.equal(link?.prog_id, Number(m[1]));
      rmSync(`${dir}/link`);
      assert.ok(
        await eventually(() => !bpftoolList("link").some((l) => l.id === Number(m[2]))),
        "unpinning detached it",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest("iter by id with --pin: reading the pin runs the iterator (bpftool iter pin)", async () => {
    const dir = await pinned("progs/iter_task.bpf.o");
    try {
      const id = JSON.parse(
        execFileSync("bpftool", ["prog", "show", "pinned", `${dir}/iter_task_list`, "-j"], {
          encoding: "utf8",
        }),
      ) as { id: number };
      const r = await tsbpf("attach", String(id.id), "iter", "--pin", `${dir}/tasks`, "--json");
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out), {
        event: "attached",
        kind: "iter",
        target: "",
        prog_id: id.id,
        pinned: `${dir}/tasks`,
      });
      const text = readFileSync(`${dir}/tasks`, "utf8");
      assert.match(text, /^# pid tgid comm\n/);
      assert.match(text, new RegExp(`^${process.pid} ${process.pid} `, "m"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest("xdp generic on lo of a fresh network namespace, held until SIGINT", async () => {
    const dir = await pinned("maps/array.bpf.o");
    try {
      await using child = spawnTsbpf(
        ["attach", `${dir}/array_count`, "xdp", "lo", "--xdp-mode", "generic"],
        ["unshare", "-n"],
      );
      const line = await child.waitFor(/^attached .*\n/m);
      assert.match(line, /^attached xdp\/lo \(generic\) \(prog 'array_count' id \d+, link id \d+\)$/m);
      const linkId = Number(/link id (\d+)/.exec(line)![1]);
      assert.ok(bpftoolList("link").some((l) => l.id === linkId));
      assert.equal(await child.interrupt(), 0, child.stderr());
      assert.match(child.stdout(), /^detached xdp\/lo \(generic\)$/m);
      assert.ok(
        await eventually(() => !bpftoolList("link").some((l) => l.id === linkId)),
        "the link is gone",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
