/**
 * VM runs of the ../shared/bench programs (BPF_PROG_TEST_RUN semantics, udp.bin) next to the
 * kernel's ns/run from that README, and XDP pcap replay throughput (xdp_drop_icmp over the
 * corpus capture, many times).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadObjectFile } from "../src/object/index.js";
import { readCapture } from "../src/vm/pcap/index.js";
import { runCapture, VmRuntime } from "../src/vm/runtime/index.js";
import { measure, sharedDir, type BenchRow, type BenchSuite } from "./harness.js";

/** Kernel ns per run on this machine (README of ../shared/bench, repeat 20000). */
const KERNEL_NS: Readonly<Record<string, number>> = {
  xorshift: 2500,
  hashmap: 18000,
  parse: 21,
  cmsketch: 60,
  bpfloop: 2800,
};

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["..", "../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;

export const vmProgramsSuite: BenchSuite = {
  title: "vm programs (test runs on udp.bin; kernel figure from ../shared/bench/README.md)",
  run(): BenchRow[] {
    const rows: BenchRow[] = [];
    const bench = `${sharedDir()}/bench`;
    const udp = new Uint8Array(readFileSync(`${bench}/packets/udp.bin`));
    for (const [name, kernel] of Object.entries(KERNEL_NS)) {
      const program = new VmRuntime({ budget: 10_000_000 })
        .loadObject(loadObjectFile(`${bench}/${name}.bpf.o`))
        .program(name);
      const first = program.testRun({ dataIn: udp });
      const ns = measure(
        () => {
          program.testRun({ dataIn: udp }, { repeat: 20 });
          return 20;
        },
        3,
        300,
      );
      rows.push({
        name: `${name} (${first.instructions} insns)`,
        unit: "run",
        ns,
        perCall: 20,
        note: `kernel ${kernel} ns/run: VM/kernel ${(ns / kernel).toFixed(1)}x; ${(ns / first.instructions).toFixed(2)} ns/insn`,
      });
    }
    const capture = readCapture(new Uint8Array(readFileSync(`${root}bpf/testdata/pings-and-udp.pcap`)));
    const big = { ...capture, packets: Array.from({ length: 100 }, () => capture.packets).flat() };
    const program = new VmRuntime()
      .loadObject(loadObjectFile(`${root}bpf/scenarios/xdp_drop_icmp.bpf.o`))
      .program("xdp_drop_icmp");
    const ns = measure(() => runCapture(program, big).retvals.length, 3, 300);
    rows.push({
      name: "xdp_drop_icmp pcap replay",
      unit: "pkt",
      ns,
      perCall: big.packets.length,
      note: `${Math.round(1e9 / ns).toLocaleString("en-US")} packets/s`,
    });
    return rows;
  },
};
