import type { BenchSuite } from "./harness.js";
import { interpreterSuite } from "./interpreter.js";
import { btfSuite } from "./btf.js";
import { vmProgramsSuite } from "./vm-programs.js";
import { kernelLoadSuite } from "./kernel-load.js";
import { toolsProfileSuite } from "./tools-profile.js";
import { ringbufSuite } from "./ringbuf.js";
import { toolsExecsnoopSuite } from "./tools-execsnoop.js";

/**
 * `npm run bench`: every benchmark suite, printed as tables. Numbers only, never pass/fail.
 * A new benchmark is a new file exporting a BenchSuite, added to SUITES. Arguments select suites
 * by a word of their title.
 */
const SUITES: readonly BenchSuite[] = [
  interpreterSuite,
  btfSuite,
  vmProgramsSuite,
  kernelLoadSuite,
  ringbufSuite,
  toolsProfileSuite,
  toolsExecsnoopSuite,
];

/** Peers measured on this machine (see ../shared/bench/README.md), xorshift64 loop. */
const PEERS = [
  ["uBPF interpreter (C)", 5.6],
  ["uBPF x86-64 JIT", 0.18],
  ["Linux kernel JIT (BPF_PROG_TEST_RUN)", 0.18],
] as const;

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

console.log(`tsbpf benchmarks — node ${process.version}, ${new Date().toISOString()}\n`);
// `npm run bench -- interpreter btf` runs only the suites whose title contains one of the words.
const only = process.argv.slice(2);
for (const suite of SUITES.filter((s) => only.length === 0 || only.some((w) => s.title.includes(w)))) {
  console.log(suite.title);
  const rows = suite.run();
  const w = Math.max(40, ...rows.map((r) => r.name.length)) + 2;
  console.log(
    `  ${pad("benchmark", w)}${lpad("ns/unit", 10)}  ${pad("unit", 6)}${lpad("units/call", 12)}  note`,
  );
  for (const r of rows)
    console.log(
      `  ${pad(r.name, w)}${lpad(r.ns.toFixed(2), 10)}  ${pad(r.unit, 6)}${lpad(String(r.perCall), 12)}  ${r.note ?? ""}`,
    );
  if (suite.title.startsWith("interpreter")) {
    console.log("  peers on the xorshift64 loop (same machine, ../shared/bench/README.md):");
    for (const [name, ns] of PEERS) console.log(`  ${pad(`  ${name}`, w)}${lpad(ns.toFixed(2), 10)}  insn`);
  }
  console.log();
}
