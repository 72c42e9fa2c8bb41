/**
 * BTF benchmarks: parsing the running kernel's BTF (/sys/kernel/btf/vmlinux) the lazy way,
 * decoding every type, name lookups, and the C dump. The cold figure (first parse in a fresh
 * process) and the retained heap come from a child process run with --expose-gc.
 * Goal from the issue: parse in <= 50 ms and <= 50 MB heap (cilium/ebpf: 27-80 ms).
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { measure, type BenchRow, type BenchSuite } from "./harness.js";
import { parseBtf } from "../src/btf/Btf.js";
import { dumpC } from "../src/btf/dump-c.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";

/** In a child with --expose-gc: first-parse time and the heap the parsed Btf keeps. */
function coldChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const bytes = readFileSync(VMLINUX);
  // the parse keeps both JS heap objects and typed arrays (offsets, name index): count both
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc();
  const before = used();
  const t0 = performance.now();
  const btf = parseBtf(bytes, { file: VMLINUX });
  const ms = performance.now() - t0;
  gc();
  const parsedHeap = used() - before;
  for (let id = 1; id < btf.count; id++) btf.typeById(id);
  gc();
  const decodedHeap = used() - before;
  console.log(JSON.stringify({ ms, parsedHeap, decodedHeap, count: btf.count }));
}

interface Cold {
  ms: number;
  parsedHeap: number;
  decodedHeap: number;
  count: number;
}

function cold(): Cold | undefined {
  const r = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--cold-child"], {
    encoding: "utf8",
  });
  try {
    return JSON.parse(r.stdout) as Cold;
  } catch {
    return undefined;
  }
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export const btfSuite: BenchSuite = {
  title: "btf (kernel BTF, /sys/kernel/btf/vmlinux)",
  run(): BenchRow[] {
    if (!existsSync(VMLINUX))
      return [{ name: "kernel BTF not present: skipped", unit: "-", ns: 0, perCall: 0 }];
    const bytes = readFileSync(VMLINUX);
    const c = cold();
    const btf = parseBtf(bytes);
    const rows: BenchRow[] = [];
    const parseNs = measure(() => (parseBtf(bytes), 1), 5, 300);
    rows.push({
      name: "parse (offsets + name index)",
      unit: "parse",
      ns: parseNs,
      perCall: 1,
      note: `${(parseNs / 1e6).toFixed(1)} ms warm${
        c
          ? `, ${c.ms.toFixed(1)} ms cold; memory kept ${MB(c.parsedHeap)}; ${c.count} types, ${MB(bytes.length)}`
          : ""
      } (goal <= 50 ms, <= 50 MB; cilium/ebpf 27-80 ms)`,
    });
    const decodeNs = measure(
      () => {
        const b = parseBtf(bytes);
        for (let id = 1; id < b.count; id++) b.typeById(id);
        return b.count - 1;
      },
      3,
      300,
    );
    rows.push({
      name: "parse + decode every type",
      unit: "type",
      ns: decodeNs,
      perCall: btf.count - 1,
      note: `${((decodeNs * (btf.count - 1)) / 1e6).toFixed(0)} ms total${c ? `; memory kept ${MB(c.decodedHeap)}` : ""}`,
    });
    const names = ["task_struct", "sk_buff", "bpf_map_type", "pid_t", "nonexistent_name"];
    rows.push({
      name: "typeByName (5 names, one a miss)",
      unit: "lookup",
      ns: measure(() => {
        for (const n of names) btf.typeByName(n);
        return names.length;
      }),
      perCall: names.length,
    });
    const dumpNs = measure(() => (dumpC(btf), 1), 3, 300);
    rows.push({
      name: "dumpC (vmlinux.h)",
      unit: "dump",
      ns: dumpNs,
      perCall: 1,
      note: `${(dumpNs / 1e6).toFixed(0)} ms`,
    });
    return rows;
  },
};

if (process.argv.includes("--cold-child")) coldChild();
else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of btfSuite.run())
    console.log(`${r.name.padEnd(36)} ${(r.ns / 1e6).toFixed(3).padStart(10)} ms/${r.unit}  ${r.note ?? ""}`);
}
