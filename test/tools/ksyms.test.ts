import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { parseKsyms } from "../../src/tools/ksyms.js";
import { modulesOf } from "../../src/tools/lsmod.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { runTool } from "./profiling-helpers.js";

/** Symbols that come and go with BPF programs (every tool run adds some) are left out. */
const stable = (line: string): boolean => !/\t\[(bpf|__builtin__\w+)\]$/.test(line);

test("kallsyms lines parse into address, type, name and module", () => {
  const syms = parseKsyms("ffffffff81000000 T _text\nffffffffc0001000 t nf_hook\t[nf_tables]\nbad\n");
  assert.deepEqual(syms, [
    { address: 0xffffffff81000000n, type: "T", name: "_text", module: undefined },
    { address: 0xffffffffc0001000n, type: "t", name: "nf_hook", module: "nf_tables" },
  ]);
  assert.deepEqual(
    modulesOf([...syms, { address: 0xffffffffc0001100n, type: "t", name: "x", module: "nf_tables" }]),
    [{ module: "nf_tables", symbols: 2, textSpan: 0x100, address: 0xffffffffc0001000n }],
  );
});

kernelTest("ksyms through iter/ksym prints exactly /proc/kallsyms (BPF program symbols aside)", async () => {
  const r = await runTool("ksyms", []);
  assert.equal(r.code, 0, r.stderr);
  const mine = r.stdout
    .split("\n")
    .filter((l) => l && stable(l))
    .sort();
  const proc = readFileSync("/proc/kallsyms", "utf8")
    .split("\n")
    .filter((l) => l && stable(l))
    .sort();
  assert.ok(proc.length > 1000);
  assert.equal(mine.length, proc.length);
  assert.deepEqual(mine, proc);
});

kernelTest("ksyms filters: -g regex, -t type, -c count, --json", async () => {
  const r = await runTool("ksyms", ["-g", "^tcp_v4_connect$", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const [o] = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { address: string; type: string; name: string });
  const line = readFileSync("/proc/kallsyms", "utf8")
    .split("\n")
    .find((l) => / tcp_v4_connect$/.test(l))!;
  assert.deepEqual(o, {
    address: line.split(" ")[0],
    type: line.split(" ")[1],
    name: "tcp_v4_connect",
    module: null,
  });
  const c = await runTool("ksyms", ["-t", "Tt", "-c"]);
  const text = readFileSync("/proc/kallsyms", "utf8")
    .split("\n")
    .filter((l) => / [Tt] /.test(l) && stable(l)).length;
  assert.ok(Math.abs(Number(c.stdout.trim()) - text) < 50, `${c.stdout.trim()} vs ${text}`);
});

kernelTest("lsmod lists the modules /proc/kallsyms names (none when the kernel has no modules)", async () => {
  const r = await runTool("lsmod", ["--json"]);
  assert.equal(r.code, 0, r.stderr);
  const got = r.stdout.trim()
    ? r.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { module: string }).module)
    : [];
  const expected = [
    ...new Set(
      readFileSync("/proc/kallsyms", "utf8")
        .split("\n")
        .filter(stable)
        .map((l) => /\t\[(\S+)\]$/.exec(l)?.[1])
        .filter((m): m is string => !!m),
    ),
  ].sort();
  assert.deepEqual(got, expected);
  if (!existsSync("/proc/modules")) assert.match(r.stderr, /no loadable module support/);
});
