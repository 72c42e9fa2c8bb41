// Every test run of bpf/corpus.json (checked in the real kernel) in the VM, the corpus pcap run,
// the benchmark programs of ../shared/bench with the results their README lists, and the
// guide scenarios.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadObjectFile, readHostKconfig } from "../../src/object/index.js";
import { readCapture } from "../../src/vm/pcap/index.js";
import { runCapture, VmRuntime, type VmObject } from "../../src/vm/runtime/index.js";

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["../..", "../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;
const shared = process.env.TSBPF_SHARED ?? `${root}../shared`;

interface Entry {
  readonly key: string;
  readonly value: string;
}
interface TestRun {
  readonly dataIn?: string;
  readonly ctxIn?: string;
  readonly retval: number;
  readonly dataOut?: string;
  readonly maps?: Record<string, Entry[]>;
}
interface Manifest {
  objects: {
    object: string;
    programs: {
      name: string;
      type: string;
      testRun?: TestRun;
      pcapRun?: { file: string; retvals: number[] };
    }[];
  }[];
}
const corpus = JSON.parse(readFileSync(`${root}bpf/corpus.json`, "utf8")) as Manifest;

const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytesOf = (s: string | undefined): Uint8Array | undefined =>
  s === undefined
    ? undefined
    : s.startsWith("@")
      ? new Uint8Array(readFileSync(`${root}${s.slice(1)}`))
      : fromHex(s);

/** The value as the manifest states it: per-CPU values summed as little-endian u64 words. */
function valueOf(object: VmObject, mapName: string, key: string): string | undefined {
  const map = object.map(mapName);
  if (!map.perCpu) {
    const v = map.lookup(fromHex(key));
    return v && toHex(v);
  }
  const per = map.lookupPerCpu(fromHex(key));
  if (!per) return undefined;
  const sum = new Uint8Array(map.valueSize);
  const out = new DataView(sum.buffer);
  for (const v of per) {
    const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i + 8 <= map.valueSize; i += 8)
      out.setBigUint64(i, out.getBigUint64(i, true) + d.getBigUint64(i, true), true);
  }
  return toHex(sum);
}

/** Entries whose result depends on the machine, checked for plausibility instead (see each). */
const PLAUSIBILITY: Record<string, (object: VmObject, retval: number) => void> = {
  // bpf_get_prandom_u32 differs per run and bpf_get_smp_processor_id is the run's CPU (0 here);
  // the kernel's manifest fixes only the NUMA node (0 on one node): the retval.
  random_cpu_numa: (o, retval) => {
    assert.equal(retval, 0);
    const bss = o.map(".bss").lookup(fromHex("00000000"))!;
    const v = new DataView(bss.buffer, bss.byteOffset);
    assert.notEqual(v.getUint32(0, true), v.getUint32(4, true), "two random draws differ");
  },
  // CONFIG_HZ is the running kernel's (250 on the reference machine where the manifest was made)
  kconfig_values: (_o, retval) => {
    const hz = readHostKconfig().CONFIG_HZ;
    if (hz !== undefined) assert.equal(retval, Number(hz));
    else assert.equal(retval, 0xffffffff); // no config: the program's -1
  },
};

for (const o of corpus.objects) {
  const runs = o.programs.filter((p) => p.testRun);
  if (runs.length === 0) continue;
  describe(o.object, () => {
    // programs of one object run in manifest order on the same instance, as in the kernel check
    let object: VmObject | undefined;
    const instance = (): VmObject =>
      (object ??= new VmRuntime({ randomSeed: 7 }).loadObject(loadObjectFile(`${root}${o.object}`)));
    for (const p of runs) {
      const t = p.testRun!;
      test(`${p.name} (${p.type})`, () => {
        const obj = instance();
        const r = obj.program(p.name).testRun({ dataIn: bytesOf(t.dataIn), ctxIn: bytesOf(t.ctxIn) });
        const plausible = PLAUSIBILITY[p.name];
        if (plausible) return plausible(obj, r.retval);
        assert.equal(r.retval, t.retval, "retval");
        if (t.dataOut !== undefined) assert.equal(toHex(r.dataOut!), t.dataOut, "dataOut");
        for (const [map, entries] of Object.entries(t.maps ?? {}))
          for (const e of entries) assert.equal(valueOf(obj, map, e.key), e.value, `${map}[${e.key}]`);
      });
    }
  });
}

describe("pcap runs", () => {
  for (const o of corpus.objects)
    for (const p of o.programs.filter((x) => x.pcapRun)) {
      test(`${o.object} ${p.name} over ${p.pcapRun!.file}`, () => {
        const obj = new VmRuntime().loadObject(loadObjectFile(`${root}${o.object}`));
        const capture = readCapture(bytesOf(p.pcapRun!.file)!, p.pcapRun!.file);
        const r = runCapture(obj.program(p.name), capture);
        assert.deepEqual(r.retvals, p.pcapRun!.retvals);
        assert.equal(r.passed.length, p.pcapRun!.retvals.filter((v) => v === 2).length);
        assert.deepEqual(
          [...r.verdicts],
          [
            ["XDP_DROP", 6],
            ["XDP_PASS", 4],
          ],
        );
        // per-action counters: index = XDP action
        assert.equal(valueOf(obj, "action_count", "01000000"), "0600000000000000");
        assert.equal(valueOf(obj, "action_count", "02000000"), "0400000000000000");
      });
    }
});

const bench = `${shared}/bench`;
describe("benchmark programs (../shared/bench)", { skip: existsSync(bench) ? false : `no ${bench}` }, () => {
  const packet = (name: string): Uint8Array => new Uint8Array(readFileSync(`${bench}/packets/${name}`));
  const load = (name: string): VmObject =>
    new VmRuntime({ budget: 10_000_000 }).loadObject(loadObjectFile(`${bench}/${name}.bpf.o`));
  const u64 = (b: Uint8Array | undefined): bigint =>
    new DataView(b!.buffer, b!.byteOffset).getBigUint64(0, true);
  const key = (i: number): Uint8Array => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0, 0);

  test("xorshift: result[0] = 6248290529083013365", () => {
    const o = load("xorshift");
    assert.equal(o.program("xorshift").testRun({ dataIn: packet("udp.bin") }).retval, 2);
    assert.equal(u64(o.map("result").lookup(key(0))), 6248290529083013365n);
  });
  test("hashmap: 255 non-zero values summing to 32640", () => {
    const o = load("hashmap");
    assert.equal(o.program("hashmap").testRun({ dataIn: packet("udp.bin") }).retval, 2);
    const values = [...o.map("table").entries()].map(([, v]) => u64(v)).filter((v) => v !== 0n);
    assert.equal(values.length, 255);
    assert.equal(
      values.reduce((a, b) => a + b, 0n),
      32640n,
    );
  });
  test("parse: bytes_by_proto[17] = 60; icmp.bin and tcp_discard.bin are dropped", () => {
    const o = load("parse");
    assert.equal(o.program("parse").testRun({ dataIn: packet("udp.bin") }).retval, 2);
    assert.equal(u64(o.map("bytes_by_proto").lookup(key(17))), 60n);
    assert.equal(o.program("parse").testRun({ dataIn: packet("icmp.bin") }).retval, 1);
    assert.equal(o.program("parse").testRun({ dataIn: packet("tcp_discard.bin") }).retval, 1);
  });
  test("cmsketch: 4 counters = 1 on the running CPU, none elsewhere", () => {
    const o = load("cmsketch");
    const cpu = 0; // the run happens on CPU 0 unless told
    assert.equal(o.program("cmsketch").testRun({ dataIn: packet("udp.bin") }, { cpu }).retval, 2);
    const per = o.map("cms").lookupPerCpu(key(0))!;
    per.forEach((v, c) => {
      const counters = new Uint32Array(v.buffer, v.byteOffset, v.byteLength / 4);
      const ones = counters.filter((x) => x === 1).length;
      assert.equal(ones, c === cpu ? 4 : 0, `cpu ${c}`);
      assert.equal(counters.filter((x) => x > 1).length, 0);
    });
  });
  test("bpfloop: total[0] = 499500", () => {
    const o = load("bpfloop");
    assert.equal(o.program("bpfloop").testRun({ dataIn: packet("udp.bin") }).retval, 2);
    assert.equal(u64(o.map("total").lookup(key(0))), 499500n);
  });
});
