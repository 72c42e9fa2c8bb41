import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import run from "../../../src/cli/commands/run.js";
import { FormatError, TsbpfError } from "../../../src/errors.js";
import { load, loadSync, type Backend } from "../../../src/index.js";
import { describeKernel, kernelTest } from "../../helpers/kernel-gate.js";
import { repoRoot } from "../../helpers/shared.js";

const obj = (...parts: string[]): string => join(repoRoot, ...parts);
const packet = (name: string): Uint8Array => new Uint8Array(readFileSync(obj("bpf", "testdata", name)));
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** What every backend must give for the same object: the same API, the same answers. */
async function sameApi(backend: Backend): Promise<void> {
  {
    await using o = await load(obj("bpf/maps/hash.bpf.o"), { backend });
    assert.equal(o.backend, backend);
    assert.deepEqual([...o.programs.keys()], ["hash_count_proto"]);
    const r = o.program("hash_count_proto").run({ dataIn: packet("eth-ipv4-icmp-echo.bin") });
    assert.equal(r.retval, 2);
    assert.equal(r.dataOut?.length, 98);
    const m = o.map("proto_count");
    assert.equal(m.keySize, 4);
    assert.equal(m.valueSize, 8);
    assert.equal(Buffer.from(m.lookup(u32(1))!).toString("hex"), "0100000000000000");
    // Typed through the object's BTF: __u32 key, __u64 value.
    assert.deepEqual([...m.typedEntries()], [[1, 1n]]);
    assert.equal(m.lookupTyped(u32(1)), 1n);
    m.update(u32(6), new Uint8Array(8).fill(0));
    assert.equal([...m.keys()].length, 2);
    assert.equal(m.delete(u32(6)), true);
    assert.equal(m.delete(u32(6)), false);
  }
  {
    // Global data by section, decoded as the DATASEC's variables; .rodata is readable.
    using o = loadSync(obj("bpf/lang/global_data.bpf.o"), { backend });
    assert.equal(o.program("global_data").run().retval, 160);
    assert.deepEqual(o.map(".data").lookupTyped(u32(0)), { counter: 101 });
    assert.deepEqual(o.map(".data.stats").lookupTyped(u32(0)), { hits: 8 });
    assert.throws(() => o.map(".nope"), /no map '.nope' \(maps: /);
    assert.throws(() => o.program("nope"), /no program 'nope' \(programs: global_data\)/);
  }
  {
    // const volatile knobs and .data set before loading (a skeleton's obj->rodata->scale = 5),
    // and a map resized: 5 * (10 + 10) + 200 = 300.
    using o = loadSync(obj("bpf/lang/global_data.bpf.o"), {
      backend,
      constants: { scale: 5, counter: 200 },
    });
    assert.equal(o.program("global_data").run().retval, 300);
    using h = loadSync(obj("bpf/maps/hash.bpf.o"), { backend, mapSizes: { proto_count: 7 } });
    assert.equal(h.map("proto_count").maxEntries, 7);
  }
  {
    // Per-CPU values: one slot per CPU, the same count on both backends.
    using o = loadSync(obj("bpf/maps/percpu_array.bpf.o"), { backend });
    o.program("percpu_array_count").run({ dataIn: packet("eth-ipv4-udp.bin") });
    const m = o.map("percpu_packets");
    assert.ok(m.perCpu);
    const slots = m.lookupPerCpu(u32(0))!;
    assert.equal(slots.length, m.cpus);
    assert.equal(
      slots.reduce((n, s) => n + Buffer.from(s).readBigUInt64LE(0), 0n),
      1n,
    );
  }
}

/** Queues pop in FIFO order (queue_fifo is a sleepable syscall program using a queue map). */
function queueFifo(backend: Backend): void {
  using o = loadSync(obj("bpf/maps/queue.bpf.o"), { backend });
  assert.equal(o.program("queue_fifo").run().retval, 1020);
  assert.equal(Buffer.from(o.map("fifo").pop()!).readUInt32LE(0), 30);
  assert.equal(o.map("fifo").pop(), undefined);
}

test("load(): the VM backend", async () => {
  await sameApi("vm");
  queueFifo("vm");
});

test("load(): bad input is a typed one-line error", async () => {
  await assert.rejects(load(obj("no-such-file.o"), { backend: "vm" }), (e: unknown) => {
    assert.ok(e instanceof TsbpfError);
    assert.match(e.message, /no-such-file\.o: cannot read: ENOENT/);
    return true;
  });
  await assert.rejects(load(new Uint8Array(64), { backend: "vm" }), FormatError);
  assert.throws(
    () => loadSync(obj("bpf/maps/hash.bpf.o"), { backend: "nope" as Backend }),
    /unknown backend 'nope' \(kernel or vm\)/,
  );
  assert.throws(
    () => loadSync(obj("bpf/maps/hash.bpf.o"), { backend: "vm", programs: ["x"] }),
    /no program named 'x'/,
  );
});

describeKernel("load() on the kernel backend", () => {
  kernelTest("the same API and answers as the VM", async () => {
    await sameApi("kernel");
  });

  kernelTest("the same API and answers as the VM: queue map", { requires: ["sleepable-any-map"] }, () => {
    queueFifo("kernel");
  });

  kernelTest("pinPath: pinned maps go there and stay after close", async () => {
    const dir = `/sys/fs/bpf/tsbpf-test-load-${process.pid}`;
    try {
      {
        await using o = await load(obj("bpf/maps/pinned_by_name.bpf.o"), { backend: "kernel", pinPath: dir });
        assert.equal(o.program("pinned_hit").run().retval, 1);
      }
      assert.ok(existsSync(`${dir}/tsbpf_pinned_hits`));
      await using again = await load(obj("bpf/maps/pinned_by_name.bpf.o"), {
        backend: "kernel",
        pinPath: dir,
      });
      assert.equal(again.program("pinned_hit").run().retval, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest("tsbpf run --backend kernel --json prints the VM backend's JSON", async () => {
    const lines: string[] = [];
    const io = {
      out: (s: string) => lines.push(s),
      err: (s: string) => lines.push(s),
      readStdin: async () => "",
    };
    const args = [
      obj("bpf/maps/array.bpf.o"),
      "--data-in",
      obj("bpf/testdata/eth-ipv4-icmp-echo.bin"),
      "--json",
    ];
    assert.equal(await run.run([...args, "--backend", "kernel"], io), 0);
    assert.equal(await run.run([...args, "--backend", "vm"], io), 0);
    const [k, v] = lines.map((l) => JSON.parse(l) as { nsPerRun: number });
    assert.ok(k && v && k.nsPerRun > 0);
    assert.deepEqual({ ...k, nsPerRun: 0 }, { ...v, nsPerRun: 0 });
    assert.match(
      lines[0]!,
      /^\{"retval": 2, "dataOut": "[0-9a-f]+", "nsPerRun": [\d.]+, "maps": \{"packet_stats": \[\{"key": "00000000", "value": "0100000000000000"\}, \{"key": "01000000", "value": "6200000000000000"\}\]\}\}$/,
    );
  });
});
