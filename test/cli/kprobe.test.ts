import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { test } from "node:test";
import { KernelMap, ensureBpffs } from "../../src/kernel/index.js";
import { TC_GLOBALS } from "../../src/object/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";
import {
  bpftoolList,
  compileBpf,
  eventually,
  legacyKprobeSource,
  noTools,
  programIds,
  root,
  spawnTsbpf,
  tsbpf,
} from "./load-fixtures.js";

const required = process.env.TSBPF_KERNEL_TESTS === "require";
const KPROBE_EVENTS = ["/sys/kernel/tracing/kprobe_events", "/sys/kernel/debug/tracing/kprobe_events"];

/** The kprobe_events lines (empty when the kernel has none). */
function kprobeEvents(): string[] {
  const file = KPROBE_EVENTS.find((f) => existsSync(f));
  return file ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

test("kprobe: usage errors", async () => {
  const noFunc = await tsbpf("kprobe", `${root}bpf/progs/legacy_prog_section.bpf.o`);
  assert.equal(noFunc.code, 2);
  assert.match(noFunc.err, /missing FUNC/);
  const mode = await tsbpf(
    "kprobe",
    `${root}bpf/progs/legacy_prog_section.bpf.o`,
    "sys_bpf",
    "--probe-mode",
    "x",
  );
  assert.equal(mode.code, 2);
  assert.match(mode.err, /--probe-mode must be one of auto, pmu, tracefs/);
});

test("kprobe: the program must be in section 'prog' (or alone) and of kprobe type, checked before loading", async () => {
  const several = await tsbpf("kprobe", `${root}bpf/maps/prog_array_tail_call.bpf.o`, "sys_bpf");
  assert.equal(several.code, 2);
  assert.match(several.err, /no program in section 'prog' and 2 programs \(\w+ in xdp, \w+ in xdp\)$/m);
  const type = await tsbpf("kprobe", `${root}bpf/scenarios/tcp_connect_tracer.bpf.o`, "tcp_connect");
  assert.equal(type.code, 2);
  assert.match(
    type.err,
    /prog 'tcp_connect_tracer' is a tracepoint program \(section 'tracepoint\/sock\/inet_sock_set_state'\), not a kprobe program/,
  );
});

/** Compiles the guide's object with unique names, or skips (fails when tools are required). */
function guideObject(t: {
  skip(reason: string): void;
}): { name: string; path: string; remove(): void } | undefined {
  if (noTools) {
    if (required) assert.fail(`TSBPF_KERNEL_TESTS=require: ${noTools}`);
    t.skip(noTools);
    return undefined;
  }
  const name = uniqueName("tsbpf_kp");
  return { name, ...compileBpf(name, legacyKprobeSource(name)) };
}

describeKernel("tsbpf kprobe on the running kernel", () => {
  kernelTest(
    "a kernel without kprobes: one line, exit 2, and no map, pin, program or kprobe event left",
    { lacks: ["kprobe", "kprobe-events"] },
    async (t) => {
      const obj = guideObject(t);
      if (!obj) return;
      const dir = `${ensureBpffs()}/${obj.name}`;
      const before = kprobeEvents();
      try {
        for (const extra of [["--pin-root", dir], [], ["--probe-mode", "tracefs"], ["--probe-mode", "pmu"]]) {
          const r = await tsbpf("kprobe", obj.path, "sys_bpf", ...extra);
          assert.equal(r.code, 2, extra.join(" "));
          assert.equal(r.out, "");
          const lines = r.err.trim().split("\n");
          assert.equal(lines.length, 1, r.err);
          assert.match(
            lines[0]!,
            /^tsbpf kprobe: kprobes not supported: kernel built without kprobes \(CONFIG_KPROBES\): /,
          );
        }
        assert.equal(existsSync(dir), false, "nothing pinned under --pin-root");
        assert.equal(existsSync(`${TC_GLOBALS}/${obj.name}_m`), false, "nothing pinned in tc/globals");
        assert.deepEqual(programIds(obj.name), []);
        assert.ok(!bpftoolList("map").some((m) => m.name === `${obj.name}_m`.slice(0, 15)), "no map created");
        assert.deepEqual(kprobeEvents(), before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        obj.remove();
      }
    },
  );

  for (const mode of ["auto", "tracefs"] as const)
    kernelTest(
      `probes a function until SIGINT (${mode}), then removes its event; the pinned map stays`,
      { requires: mode === "tracefs" ? ["kprobe-events"] : ["kprobe"] },
      async (t) => {
        const obj = guideObject(t);
        if (!obj) return;
        const dir = `${ensureBpffs()}/${obj.name}`;
        const before = kprobeEvents();
        try {
          await using child = spawnTsbpf([
            "kprobe",
            obj.path,
            "do_sys_openat2",
            "--pin-root",
            dir,
            "--probe-mode",
            mode,
          ]);
          const line = await child.waitFor(/^attached .*\n/m);
          assert.match(line, new RegExp(`^attached kprobe/do_sys_openat2 \\(prog '${obj.name}' id \\d+, `));
          // a second write: it may arrive after the "attached" line
          await child.waitFor(
            new RegExp(`^map '${obj.name}_m' pinned at ${dir}/tc/globals/${obj.name}_m$`, "m"),
          );
          if (mode === "tracefs")
            assert.ok(
              kprobeEvents().some((l) => l.includes(`tsbpf_`)),
              "an event was added",
            );
          execFileSync("cat", ["/etc/hostname"]);
          assert.equal(await child.interrupt(), 0, child.stderr());
          assert.match(child.stdout(), /^removed kprobe\/do_sys_openat2, unloaded prog /m);
          assert.match(
            child.stdout(),
            new RegExp(`^pinned map '${obj.name}_m' stays at ${dir}/tc/globals/${obj.name}_m$`, "m"),
          );
          assert.ok(await eventually(() => programIds(obj.name).length === 0), "the program is unloaded");
          assert.deepEqual(kprobeEvents(), before, "the kprobe event was removed");
          const map = KernelMap.fromPin(`${dir}/tc/globals/${obj.name}_m`);
          try {
            assert.ok(map.lookup(new Uint8Array(4)), "the program ran and the pinned map stays");
          } finally {
            map.close();
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
          obj.remove();
        }
      },
    );
});
