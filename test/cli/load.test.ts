import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { test } from "node:test";
import { pinName } from "../../src/cli/commands/load.js";
import { KernelMap, ensureBpffs } from "../../src/kernel/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";
import {
  bpftoolList,
  compileBpf,
  eventually,
  noTools,
  programIds,
  root,
  spawnTsbpf,
  tracepointSource,
  tsbpf,
} from "./load-fixtures.js";

const required = process.env.TSBPF_KERNEL_TESTS === "require";

test("load: without a pin directory or --attach nothing would outlive it: usage error", async () => {
  const r = await tsbpf("load", `${root}bpf/progs/tracepoint_openat.bpf.o`);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    /give --pin-progs DIR and\/or --pin-maps DIR \(like bpftool prog loadall\), or --attach/,
  );
  assert.match(r.err, /usage: tsbpf load OBJ/);
});

test("load: bad input is one line and exit 2", async () => {
  const missing = await tsbpf("load", "/nonexistent.bpf.o", "--pin-progs", "/sys/fs/bpf/x");
  assert.equal(missing.code, 2);
  assert.equal(missing.err.trim(), "tsbpf load: /nonexistent.bpf.o: cannot read: ENOENT");
  const mode = await tsbpf("load", `${root}bpf/maps/array.bpf.o`, "--attach", "--xdp-mode", "turbo");
  assert.equal(mode.code, 2);
  assert.match(mode.err, /--xdp-mode must be one of auto, generic, native, offload/);
});

test("load --attach: a program whose hook needs an option names it before loading anything", async () => {
  const r = await tsbpf("load", `${root}bpf/maps/array.bpf.o`, "--attach");
  assert.equal(r.code, 2);
  assert.match(r.err, /prog 'array_count' \(xdp\) attaches to xdp: give --iface IF/);
});

test("pin names: bpffs refuses '.', libbpf turns it into '_'", () => {
  assert.equal(pinName("hello_wo.rodata"), "hello_wo_rodata");
  assert.equal(pinName("counts"), "counts");
});

describeKernel("tsbpf load on the running kernel", () => {
  kernelTest("--pin-progs/--pin-maps pin every program and map (like loadall), JSON lists them", async () => {
    const dir = `${ensureBpffs()}/${uniqueName("tsbpf_load")}`;
    try {
      const r = await tsbpf(
        "load",
        `${root}bpf/scenarios/hello_world.bpf.o`,
        "--pin-progs",
        dir,
        "--pin-maps",
        `${dir}/maps`,
        "--json",
      );
      assert.equal(r.code, 0, r.err);
      const doc = JSON.parse(r.out) as {
        loaded: { name: string; kind: string; id: number; pinned: string }[];
      };
      const prog = doc.loaded.find((l) => l.kind === "prog")!;
      assert.equal(prog.name, "hello_world");
      assert.equal(prog.pinned, `${dir}/hello_world`);
      const map = doc.loaded.find((l) => l.kind === "map")!;
      assert.equal(map.pinned, `${dir}/maps/hello_wo_rodata`);
      assert.deepEqual(readdirSync(dir).sort(), ["hello_world", "maps"]);
      // the pins hold what the command loaded: the ids bpftool reports
      const shown = JSON.parse(
        execFileSync("bpftool", ["prog", "show", "pinned", `${dir}/hello_world`, "-j"], { encoding: "utf8" }),
      ) as { id: number };
      assert.equal(shown.id, prog.id);
      const m = KernelMap.fromPin(map.pinned);
      assert.equal(m.info.id, map.id);
      m.close();
      const text = await tsbpf("load", `${root}bpf/maps/array.bpf.o`, "--pin-progs", `${dir}/array`);
      assert.equal(text.code, 0, text.err);
      assert.match(
        text.out,
        new RegExp(`^loaded prog 'array_count' \\(xdp, id \\d+\\) pinned at ${dir}/array/array_count$`, "m"),
      );
      assert.match(text.out, /^loaded map 'packet_stats' \(array, id \d+\)$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest(
    "a failed --attach removes the pins and directories it created",
    { lacks: ["kprobe", "kprobe-events"] },
    async () => {
      const dir = `${ensureBpffs()}/${uniqueName("tsbpf_fail")}`;
      const r = await tsbpf(
        "load",
        `${root}bpf/progs/kprobe_unlinkat.bpf.o`,
        "--attach",
        "--pin-maps",
        `${dir}/maps`,
      );
      assert.equal(r.code, 2);
      assert.match(
        r.err,
        /^tsbpf load: kprobes not supported: kernel built without kprobes \(CONFIG_KPROBES\)/,
      );
      assert.equal(r.err.trim().split("\n").length, 1);
      assert.equal(existsSync(dir), false, "the pin directory was removed");
    },
  );

  kernelTest("--attach in a child: attaches, counts, detaches on SIGINT; pinned maps stay", async (t) => {
    if (noTools) {
      if (required) assert.fail(`TSBPF_KERNEL_TESTS=require: ${noTools}`);
      t.skip(noTools);
      return;
    }
    const name = uniqueName("tsbpf_ld");
    const obj = compileBpf(name, tracepointSource(name));
    const dir = `${ensureBpffs()}/${name}`;
    try {
      await using child = spawnTsbpf(["load", obj.path, "--attach", "--pin-maps", dir]);
      const line = await child.waitFor(/^attached .*\n/m);
      assert.match(
        line,
        new RegExp(
          `^attached tracepoint/syscalls/sys_enter_openat \\(prog '${name}' id \\d+, link id \\d+\\)\\n$`,
        ),
      );
      const progId = Number(/id (\d+),/.exec(line)![1]);
      const linkId = Number(/link id (\d+)/.exec(line)![1]);
      assert.deepEqual(programIds(name), [progId]);
      assert.ok(bpftoolList("link").some((l) => l.id === linkId && l.prog_id === progId));
      // the program runs: an openat from another process counts in the pinned map
      execFileSync("cat", ["/etc/hostname"]);
      const counts = KernelMap.fromPin(`${dir}/${name}_c`);
      try {
        const v = counts.lookup(new Uint8Array(4))!;
        assert.ok(
          new DataView(v.buffer, v.byteOffset).getBigUint64(0, true) > 0n,
          "the tracepoint program ran",
        );
      } finally {
        counts.close();
      }

      const code = await child.interrupt("SIGINT");
      assert.equal(code, 0, child.stderr());
      assert.match(child.stdout(), /^detached 1 program, closed 1 program and 1 map$/m);
      assert.match(child.stdout(), new RegExp(`^pinned map '${name}_c' stays at ${dir}/${name}_c$`, "m"));
      assert.ok(await eventually(() => programIds(name).length === 0), "no program of ours is left");
      assert.ok(
        await eventually(() => !bpftoolList("link").some((l) => l.id === linkId)),
        "the link is gone",
      );
      assert.deepEqual(readdirSync(dir), [`${name}_c`], "the pinned map stays");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      obj.remove();
    }
  });

  kernelTest("--attach --json prints one JSON line per event; SIGTERM ends it too", async (t) => {
    if (noTools) {
      if (required) assert.fail(`TSBPF_KERNEL_TESTS=require: ${noTools}`);
      t.skip(noTools);
      return;
    }
    const name = uniqueName("tsbpf_lj");
    const obj = compileBpf(name, tracepointSource(name));
    try {
      await using child = spawnTsbpf(["load", obj.path, "--attach", "--json"]);
      const line = await child.waitFor(/^\{"event":"attached".*\n/m);
      const event = JSON.parse(line) as { kind: string; target: string; prog: string; link_ids: number[] };
      assert.equal(event.kind, "tracepoint");
      assert.equal(event.target, "syscalls/sys_enter_openat");
      assert.equal(event.prog, name);
      assert.equal(event.link_ids.length, 1);
      assert.equal(await child.interrupt("SIGTERM"), 0, child.stderr());
      const last = JSON.parse(child.stdout().trim().split("\n").at(-1)!) as Record<string, unknown>;
      assert.deepEqual(last, { event: "detached", links: 1, programs: 1, maps: 1, pinned: [] });
      assert.ok(await eventually(() => programIds(name).length === 0), "no program of ours is left");
      assert.ok(
        await eventually(() => !bpftoolList("map").some((m) => m.name === `${name}_c`.slice(0, 15))),
        "no map of ours is left",
      );
    } finally {
      obj.remove();
    }
  });

  kernelTest("prog dump xlated of a loaded program is bpftool's text; map pin pins a map by id", async () => {
    const dir = `${ensureBpffs()}/${uniqueName("tsbpf_dump")}`;
    try {
      assert.equal(
        (await tsbpf("load", `${root}bpf/progs/tracepoint_openat.bpf.o`, "--pin-progs", dir)).code,
        0,
      );
      const pin = `${dir}/tracepoint_openat`;
      const ours = await tsbpf("prog", "dump", "xlated", "pinned", pin);
      assert.equal(ours.code, 0, ours.err);
      const bpftoolDump = (path: string, ...extra: string[]): string =>
        execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", path, ...extra], { encoding: "utf8" });
      // bpftool's text to the byte: the C prototype and the source lines from the program's BTF
      assert.equal(ours.out, bpftoolDump(pin));
      assert.match(ours.out, /^int tracepoint_openat\(struct trace_event_raw_sys_enter \* ctx\):$/m);
      assert.match(ours.out, /^   5: \(85\) call bpf_ringbuf_reserve#-?\d+$/m);
      assert.equal(
        (await tsbpf("prog", "dump", "xlated", "pinned", pin, "linum")).out,
        bpftoolDump(pin, "linum"),
      );
      // subprograms (a prototype each, calls named by their JITed symbols), callbacks
      // (subprog[+N]) and kfunc calls (named from kallsyms)
      for (const [object, prog] of [
        ["bpf/lang/subprograms.bpf.o", "subprogram_calls"],
        ["bpf/scenarios/bpf_loop_1000.bpf.o", "bpf_loop_1000"],
        ["bpf/scenarios/open_coded_iter_1000.bpf.o", "open_coded_iter_1000"],
      ] as const) {
        const at = `${dir}/more-${prog}`;
        assert.equal((await tsbpf("load", `${root}${object}`, "--pin-progs", at)).code, 0);
        const text = (await tsbpf("prog", "dump", "xlated", "pinned", `${at}/${prog}`)).out;
        assert.equal(text, bpftoolDump(`${at}/${prog}`), prog);
      }
      assert.match(ours.out, /^   1: \(18\) r1 = map\[id:\d+\]$/m);
      const llvm = await tsbpf("prog", "dump", "xlated", pin, "--syntax", "llvm");
      assert.match(llvm.out, /^   5: call 0x83$/m);
      assert.match(llvm.out, /^   0: r7 = r1$/m);
      const json = JSON.parse((await tsbpf("prog", "dump", "xlated", pin, "linum", "--json")).out) as {
        pc: number;
        raw: string;
        disasm: string;
        proto?: string;
        src?: string;
        file?: string;
        line_num?: number;
      }[];
      assert.equal(json[0]!.proto, "int tracepoint_openat(struct trace_event_raw_sys_enter * ctx)");
      assert.equal(json[0]!.file, "./bpf/progs/tracepoint_openat.bpf.c");
      assert.ok(json[0]!.line_num! > 0 && json[0]!.src!.length > 0);
      assert.deepEqual(Object.keys(json[1]!), ["pc", "raw", "disasm", "src", "file", "line_num", "line_col"]);
      assert.equal(json[2]!.pc, 3, "lddw takes two slots");
      const bad = await tsbpf("prog", "dump", "jited", pin);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /only 'xlated' is supported/);

      const mapId = (
        JSON.parse(execFileSync("bpftool", ["prog", "show", "pinned", pin, "-j"], { encoding: "utf8" })) as {
          map_ids: number[];
        }
      ).map_ids[0]!;
      const pinned = await tsbpf("map", "pin", String(mapId), `${dir}/events`);
      assert.equal(pinned.code, 0, pinned.err);
      const m = KernelMap.fromPin(`${dir}/events`);
      assert.equal(m.info.id, mapId);
      m.close();
      const again = await tsbpf("map", "pin", String(mapId), `${dir}/events`);
      assert.equal(again.code, 1);
      assert.match(again.err, /EEXIST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
