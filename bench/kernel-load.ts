/**
 * The kernel backend's numbers: (1) loading every corpus object that libbpf can load (parse +
 * BTF + maps + programs, then close) with tsbpf's KernelCollection next to `bpftool prog
 * loadall` on the same objects (a process each; its start-up cost is shown on its own row), and
 * (2) the ../shared/bench programs run in the kernel (BPF_PROG_TEST_RUN, repeat 20000) and in
 * the VM in the same run, with the ratio. Needs root (bpf(2), bpffs); without it the suite says why.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { KernelCollection } from "../src/kernel/object/index.js";
import { loadSync } from "../src/load.js";
import { loadObjectFile } from "../src/object/index.js";
import { measure, repoRoot, sharedDir, type BenchRow, type BenchSuite } from "./harness.js";

const root = `${repoRoot()}/`;

interface Manifest {
  readonly objects: readonly {
    readonly object: string;
    readonly kernelLoad?: boolean;
    readonly loadType?: string;
  }[];
}

/** Objects both loaders can load here (libbpf >= 1.0 refuses legacy maps; no trampolines here). */
function loadableObjects(): { path: string; loadType: string | undefined }[] {
  const manifest = JSON.parse(readFileSync(`${root}bpf/corpus.json`, "utf8")) as Manifest;
  return manifest.objects
    .filter((o) => o.kernelLoad !== false && !/fentry|lsm_/.test(o.object))
    .map((o) => ({ path: `${root}${o.object}`, loadType: o.loadType }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeNs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

function bpftool(args: string[]): void {
  const r = spawnSync("bpftool", args, { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`bpftool ${args.join(" ")}: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}`);
}

let seq = 0;
const scratch = (): string => `/sys/fs/bpf/tsbpf-bench-${process.pid}-${seq++}`;

function loadRows(): BenchRow[] {
  const objects = loadableObjects();
  const trials = 5;
  const ours: number[] = [];
  const theirs: number[] = [];
  const startup: number[] = [];
  for (let t = 0; t < trials; t++) {
    let total = 0;
    for (const o of objects) {
      const dir = scratch();
      try {
        total += timeNs(() => KernelCollection.load(loadObjectFile(o.path), { pinPath: dir }).close());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    ours.push(total / objects.length);
    total = 0;
    for (const o of objects) {
      const dir = scratch();
      mkdirSync(dir, { recursive: true });
      try {
        const args = ["prog", "loadall", o.path, `${dir}/progs`, ...(o.loadType ? ["type", o.loadType] : [])];
        total += timeNs(() => bpftool([...args, "pinmaps", `${dir}/maps`]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    theirs.push(total / objects.length);
    startup.push(timeNs(() => bpftool(["version"])));
  }
  const n = objects.length;
  const a = median(ours);
  const b = median(theirs);
  const s = median(startup);
  return [
    {
      name: `corpus load: tsbpf KernelCollection (${n} objects)`,
      unit: "obj",
      ns: a,
      perCall: n,
      note: "parse + BTF + maps + programs + close, in process",
    },
    {
      name: `corpus load: bpftool prog loadall (${n} objects)`,
      unit: "obj",
      ns: b,
      perCall: n,
      note: `one process per object; without its start-up ${(Math.max(b - s, 1) / 1e6).toFixed(2)} ms/obj, and tsbpf takes ${(a / Math.max(b - s, 1)).toFixed(2)}x that`,
    },
    {
      name: "bpftool start-up (bpftool version)",
      unit: "call",
      ns: s,
      perCall: 1,
      note: "process spawn + libbpf init",
    },
  ];
}

const BENCH = ["xorshift", "hashmap", "parse", "cmsketch", "bpfloop"];
const REPEAT = 20_000;

function runRows(): BenchRow[] {
  const bench = `${sharedDir()}/bench`;
  const udp = new Uint8Array(readFileSync(`${bench}/packets/udp.bin`));
  const rows: BenchRow[] = [];
  for (const name of BENCH) {
    const path = `${bench}/${name}.bpf.o`;
    using kernel = loadSync(path, { backend: "kernel" });
    using vm = loadSync(path, { backend: "vm", vm: { budget: 10_000_000 } });
    const kp = kernel.program(name);
    const vp = vm.program(name);
    const k = median([0, 1, 2].map(() => kp.run({ dataIn: udp, repeat: REPEAT }).nsPerRun));
    const v = measure(() => (vp.run({ dataIn: udp, repeat: 20 }), 20), 3, 200);
    rows.push({
      name: `${name}: kernel (JIT, test_run)`,
      unit: "run",
      ns: k,
      perCall: REPEAT,
      note: "BPF_PROG_TEST_RUN duration",
    });
    rows.push({
      name: `${name}: VM`,
      unit: "run",
      ns: v,
      perCall: 20,
      note: `VM/kernel ${(v / Math.max(k, 1e-9)).toFixed(0)}x`,
    });
  }
  return rows;
}

export const kernelLoadSuite: BenchSuite = {
  title: "kernel backend (object load vs bpftool; VM vs kernel ns/run on ../shared/bench, udp.bin)",
  run(): BenchRow[] {
    try {
      return [...loadRows(), ...runRows()];
    } catch (e) {
      console.log(`  skipped: ${(e as Error).message}`);
      return [];
    }
  },
};
