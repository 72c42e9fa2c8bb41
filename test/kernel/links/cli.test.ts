import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, rmdirSync } from "node:fs";
import { main } from "../../../src/cli/main.js";
import type { CommandIO } from "../../../src/cli/command.js";
import { ProgramBuilder, R0, R1, R2, R10 } from "../../../src/isa/builder.js";
import { Size } from "../../../src/isa/opcodes.js";
import {
  attachCgroup,
  attachRawTracepoint,
  attachTracepoint,
  openPinnedLink,
} from "../../../src/kernel/links/index.js";
import { AttachType, BpfCmd, useSyscalls } from "../../../src/kernel/sys/index.js";
import { fakeSyscalls } from "../fake-syscalls.js";
import { test } from "node:test";
import { KernelProgram } from "../../../src/kernel/program.js";
import { ensureBpffs } from "../../../src/kernel/bpffs.js";
import { describeKernel, kernelTest, uniqueName } from "../../helpers/kernel-gate.js";
import { counterMap, countingProgram } from "./helpers.js";
import { cgroup2Root } from "../../helpers/cgroup.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: async () => "" };
  const code = await main(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

test("link list skips ids that are gone (ENOENT) or still being attached (EAGAIN) (fake syscall layer)", async () => {
  const ids = [5, 6, 7];
  const restore = useSyscalls(
    fakeSyscalls((cmd, attr) => {
      const id = attr.getUint32(0, true);
      if (cmd === BpfCmd.LINK_GET_NEXT_ID) {
        const next = ids.find((i) => i > id);
        if (next === undefined) return -2;
        attr.setUint32(4, next, true);
        return 0;
      }
      if (cmd === BpfCmd.LINK_GET_FD_BY_ID) return id === 5 ? -11 : id === 6 ? -2 : -1;
      return -38;
    }),
  );
  try {
    const r = await cli(["link", "list"]);
    // 5 and 6 are skipped; 7 fails with EPERM, which is an error worth reporting.
    assert.equal(r.code, 1);
    assert.match(r.err, /^tsbpf link: id 7: BPF_LINK_GET_FD_BY_ID failed: EPERM/);
    ids.pop();
    assert.deepEqual(await cli(["link", "list"]), { code: 0, out: "", err: "" });
  } finally {
    restore();
  }
});

describeKernel("tsbpf link / feature / trace-pipe", () => {
  kernelTest("link list, show, pin and detach", async () => {
    using map = counterMap();
    using prog = countingProgram(map, { type: "raw_tracepoint" });
    using link = attachRawTracepoint(prog, { name: "sched_process_exec" });
    const id = link.id;
    const list = await cli(["link", "list"]);
    assert.equal(list.code, 0, list.err);
    assert.match(
      list.out,
      new RegExp(`^${id}: raw_tracepoint  prog ${prog.id}\\n\\ttp_name sched_process_exec`, "m"),
    );
    const show = await cli(["link", "show", String(id), "--json"]);
    const rec = JSON.parse(show.out) as Record<string, unknown>;
    assert.equal(rec.id, id);
    assert.equal(rec.type, "raw_tracepoint");
    assert.equal(rec.prog_id, prog.id);
    ensureBpffs();
    const pin = `/sys/fs/bpf/${uniqueName("clilink")}`;
    try {
      assert.equal((await cli(["link", "pin", String(id), pin])).code, 0);
      using pinned = openPinnedLink(pin);
      assert.equal(pinned.id, id);
    } finally {
      rmSync(pin, { force: true });
    }
    const refused = await cli(["link", "detach", "id", String(id)]);
    assert.equal(refused.code, 1, "raw_tracepoint links cannot be detached");
    assert.match(refused.err, /detach raw_tracepoint link: BPF_LINK_DETACH failed: E(OPNOTSUPP|NOTSUP)\b/);
    // A cgroup link can: on a temporary cgroup.
    const dir = `${cgroup2Root()}/tsbpf-${uniqueName("cgcli")}`;
    mkdirSync(dir);
    try {
      using cgprog = countingProgram(map, {
        type: "cgroup_skb",
        expectedAttachType: AttachType.CGROUP_INET_EGRESS,
        ret: 1,
      });
      using cglink = attachCgroup(cgprog, { cgroup: dir, attachType: "cgroup_inet_egress" });
      assert.equal((await cli(["link", "detach", String(cglink.id)])).code, 0);
      assert.equal(cglink.info().details.cgroup_id, 0n, "detached: the link has no cgroup any more");
    } finally {
      rmdirSync(dir);
    }
    const missing = await cli(["link", "show", "999999999"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /BPF_LINK_GET_FD_BY_ID failed: ENOENT/);
    assert.equal((await cli(["link", "frobnicate"])).code, 2);
  });

  kernelTest("feature --json reports program types, map types and attach features", async () => {
    const r = await cli(["feature", "--json", "--no-helpers"]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as {
      program_types: Record<string, boolean>;
      map_types: Record<string, boolean>;
      attach: Record<string, boolean>;
      details: Record<string, string>;
    };
    assert.equal(report.program_types.xdp, true);
    assert.equal(report.map_types.ringbuf, true);
    assert.equal(typeof report.attach["BPF trampolines"], "boolean");
    assert.ok(report.details["kprobe PMU"]);
    const text = await cli(["feature"]);
    assert.match(text.out, /^eBPF program_type xdp is available$/m);
    assert.match(
      text.out,
      /^eBPF helpers supported for program type xdp:\n(\t- \w+\n)*\t- bpf_map_lookup_elem$/m,
    );
  });

  kernelTest("trace-pipe prints bpf_trace_printk output", async () => {
    // "tsbpf_hi\n" on the stack, printed at every exec.
    const tag = uniqueName("tp").replace(/_/g, "").slice(0, 8).padEnd(8, "x");
    const word = Buffer.from(tag, "latin1").readBigUInt64LE(0);
    using prog = KernelProgram.load({
      type: "tracepoint",
      license: "GPL",
      name: uniqueName("printk"),
      insns: new ProgramBuilder()
        .lddw(R1, word)
        .stx(Size.DW, R10, R1, -16)
        .st(Size.DW, R10, -8, 0x0a) // "\n\0..."
        .mov(R1, R10)
        .add(R1, -16)
        .mov(R2, 10)
        .call(6) // trace_printk
        .mov(R0, 0)
        .exit()
        .build(),
    });
    using _link = attachTracepoint(prog, { group: "sched", name: "sched_process_exec" });
    const timer = setInterval(() => spawn("/bin/true").on("error", () => {}), 100);
    try {
      const r = await cli(["trace-pipe", "--timeout", "1.2"]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(tag));
    } finally {
      clearInterval(timer);
    }
  });
});
