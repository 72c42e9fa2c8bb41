import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assembleConformance } from "../src/isa/asm/conformance.js";
import { parseConformanceData } from "../src/isa/asm/conformance-data.js";
import { decode } from "../src/isa/codec.js";
import { Interpreter } from "../src/vm/index.js";
import { measure, sharedDir, type BenchRow, type BenchSuite } from "./harness.js";
import { primeProgram, xorshiftExpected, xorshiftProgram } from "./programs.js";

/** Interpreter speed in ns per executed eBPF instruction. */
export const interpreterSuite: BenchSuite = {
  title: "interpreter (ns per executed eBPF instruction)",
  run(): BenchRow[] {
    const rows: BenchRow[] = [];

    const rounds = 100_000;
    const xorshift = new Interpreter(xorshiftProgram(rounds), { budget: 100_000_000 });
    const check = xorshift.run();
    if (check.r0 !== xorshiftExpected(rounds)) throw new Error("xorshift: wrong result");
    rows.push({
      name: "xorshift64 loop (11 insns/round)",
      unit: "insn",
      ns: measure(() => xorshift.run().instructions),
      perCall: check.instructions,
    });

    const n = 1_000_003;
    const prime = new Interpreter(primeProgram(n), { budget: 100_000_000 });
    const primeRun = prime.run();
    rows.push({
      name: `prime.data loop, r1 = ${n}`,
      unit: "insn",
      ns: measure(() => prime.run().instructions),
      perCall: primeRun.instructions,
      note: "64-bit div + mul per iteration",
    });

    const file = join(sharedDir(), "conformance/bpf_conformance/tests/prime.data");
    const data = parseConformanceData(readFileSync(file, "utf8"), file);
    const program = data.raw ? decode(data.raw, { file }) : assembleConformance(data.asm ?? "", file);
    const small = new Interpreter(program);
    const smallRun = small.run();
    if (smallRun.r0 !== data.result) throw new Error("prime.data: wrong result");
    rows.push({
      name: "prime.data as is (r1 = 67)",
      unit: "insn",
      ns: measure(() => small.run().instructions),
      perCall: smallRun.instructions,
      note: "includes per-run setup",
    });
    return rows;
  },
};
