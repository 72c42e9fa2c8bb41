import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadObjectSpec } from "../../../src/object/load.js";
import { Memory } from "../../../src/vm/memory.js";
import { createVmMap } from "../../../src/vm/maps/index.js";
import { decodeBtfValue } from "../../../src/btf/value.js";
import { VmRuntime } from "../../../src/vm/runtime/index.js";
import { repoRoot } from "../../helpers/shared.js";

// repoRoot, not import.meta.url: the compiled tests run from dist/test, where ../../../bpf is missing
const corpus = (p: string): Uint8Array => readFileSync(join(repoRoot, "bpf", p));

test("global data maps decode their DATASEC: numbers, bigints, char arrays as strings", () => {
  const spec = loadObjectSpec(corpus("lang/global_data.bpf.o"), { file: "global_data.bpf.o" });
  const memory = new Memory();
  const byName = new Map(
    spec.maps.map((m) => [
      m.section.replace(/^\.(rodata|data|bss)$/, "object.$1"),
      createVmMap(m, memory, { cpus: 1, btf: spec.btf }),
    ]),
  );
  const zero = new Uint8Array(4);
  assert.deepEqual(byName.get("object.rodata")!.decodeValue(byName.get("object.rodata")!.lookup(zero)!), {
    scale: 3,
  });
  assert.deepEqual(byName.get(".rodata.table")!.decodeValue(byName.get(".rodata.table")!.lookup(zero)!), {
    lookup: [1, 2, 3, 4],
  });
  // .bss has two variables, but clang leaves DATASEC offsets 0 in objects (libbpf fixes them up at
  // load): decode each variable with its own type and its symbol offset.
  const bss = spec.globals.find((g) => g.section === ".bss")!;
  const value = new Uint8Array(16);
  const v = new Map(bss.variables.map((x) => [x.name, x]));
  new DataView(value.buffer).setBigUint64(v.get("runs")!.offset, 5n, true);
  value.set(new TextEncoder().encode("result!"), v.get("last_result")!.offset);
  const decode = (name: string): unknown => {
    const x = v.get(name)!;
    return decodeBtfValue(spec.btf!, x.btfTypeId, value.subarray(x.offset, x.offset + x.size));
  };
  assert.equal(decode("runs"), 5n);
  assert.equal(decode("last_result"), "result!");
  value[v.get("last_result")!.offset + 1] = 1; // not a C string any more: numbers
  assert.deepEqual(decode("last_result"), [114, 1, 115, 117, 108, 116, 33, 0]);
  value[v.get("last_result")!.offset + 1] = 0x65;
  // the map decodes the whole section with the loader's DATASEC layouts (spec.datasecs)
  const m = spec.maps.find((x) => x.section === ".bss")!;
  const withLayouts = createVmMap(m, memory, { cpus: 1, btf: spec.btf, datasecs: spec.datasecs });
  assert.deepEqual(withLayouts.decodeValue(value), { runs: 5n, last_result: "result!" });
  assert.throws(() => withLayouts.decodeValue(value.subarray(0, 12)), /last_result.*too few bytes/);
  const loaded = new VmRuntime({ cpus: 1 }).loadObject(spec).map(".bss");
  assert.deepEqual(loaded.decodeValue(value), { runs: 5n, last_result: "result!" }, "loadObject passes them");
});

test("struct values: members by name, nested char arrays, pointer keys as bigint", () => {
  const spec = loadObjectSpec(corpus("scenarios/tcp_connect_tracer.bpf.o"), { file: "tcp.bpf.o" });
  const m = spec.maps.find((x) => x.name === "connecting")!;
  const map = createVmMap(m, new Memory(), { cpus: 1, btf: spec.btf });
  const v = new Uint8Array(m.valueSize);
  const dv = new DataView(v.buffer);
  dv.setBigUint64(0, 123456789012n, true);
  dv.setUint32(8, 42, true);
  v.set(new TextEncoder().encode("curl"), 12);
  assert.deepEqual(map.decodeValue(v), { ts: 123456789012n, pid: 42, comm: "curl" });
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, 0xffff888012345678n, true);
  assert.equal(map.decodeKey(key), 0xffff888012345678n);
  assert.throws(() => decodeBtfValue(spec.btf!, m.btfValueTypeId, v.subarray(0, 4)), /too few/);
});
