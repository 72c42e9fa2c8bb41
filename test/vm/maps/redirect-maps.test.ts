// Device, CPU and socket maps: their kernel update/delete rules, and bpf_redirect_map through
// them from an XDP program (XDP_REDIRECT and the recorded target when the slot is full, the
// flags' action bits when it is empty).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { helperByName } from "../../../src/isa/helpers.js";
import { ProgramBuilder, R1, R2, R3 } from "../../../src/isa/builder.js";
import {
  createVmMap,
  Errno,
  type CpuMap,
  type DevMap,
  type SocketMap,
  type VmMapSpec,
} from "../../../src/vm/maps/index.js";
import { xdp } from "../../../src/vm/program-types/index.js";
import { VmRuntime } from "../../../src/vm/runtime/index.js";
import { repoRoot } from "../../helpers/shared.js";
import { errnoOf, getU32, make, MapType, u32 } from "./util.js";

const devval = (ifindex: number, progFd?: number): Uint8Array => {
  const b = new Uint8Array(progFd === undefined ? 4 : 8);
  const v = new DataView(b.buffer);
  v.setUint32(0, ifindex, true);
  if (progFd !== undefined) v.setInt32(4, progFd, true);
  return b;
};

test("devmap: an array of devices; ifindex 0 empties a slot; program entries are refused", () => {
  assert.equal(
    errnoOf(() => make({ type: MapType.DEVMAP, valueSize: 12 })),
    Errno.EINVAL,
  );
  assert.equal(
    errnoOf(() => make({ type: MapType.DEVMAP, keySize: 8, valueSize: 4 })),
    Errno.EINVAL,
  );
  const m = make({ type: MapType.DEVMAP, valueSize: 8 }) as DevMap;
  assert.equal(m.lookup(u32(1)), undefined, "slots start empty");
  m.update(u32(1), devval(7, -1));
  assert.deepEqual(m.lookup(u32(1)), devval(7, 0), "bpf_prog.id 0");
  assert.equal(
    errnoOf(() => m.update(u32(1), devval(8, 0), 1)),
    Errno.EEXIST,
    "NOEXIST on an array",
  );
  assert.equal(
    errnoOf(() => m.update(u32(4), devval(8, 0))),
    Errno.E2BIG,
  );
  assert.equal(
    errnoOf(() => m.update(u32(2), devval(8, 5))),
    Errno.EOPNOTSUPP,
  );
  assert.equal(
    errnoOf(() => m.update(u32(2), devval(0, 5))),
    Errno.EINVAL,
  );
  m.setDevice(3, 9);
  assert.deepEqual(
    [...m.entries()].map(([k, v]) => [getU32(k), getU32(v)]),
    [
      [1, 7],
      [3, 9],
    ],
  );
  assert.equal(m.lookupElem(u32(2)), 0n);
  assert.notEqual(m.lookupElem(u32(3)), 0n, "programs see the entry's value");
  m.update(u32(3), devval(0, 0));
  assert.equal(m.lookup(u32(3)), undefined, "ifindex 0 empties the slot");
  assert.equal(m.delete(u32(1)), true);
  assert.equal(m.delete(u32(1)), false);
  assert.equal(
    errnoOf(() => m.delete(u32(9))),
    Errno.EINVAL,
  );
  assert.equal([...m.keys()].length, 0);
  assert.equal(getU32(m.nextKey(u32(2))!), 3, "get_next_key walks every index, like the kernel's");
});

test("devmap_hash: keyed devices, hash update flags, no ifindex 0, full at max_entries", () => {
  const m = make({ type: MapType.DEVMAP_HASH, valueSize: 4, maxEntries: 2 }) as DevMap;
  m.update(u32(100), devval(3));
  m.setDevice(u32(200), 4);
  assert.equal(
    errnoOf(() => m.update(u32(300), devval(5))),
    Errno.E2BIG,
  );
  assert.equal(
    errnoOf(() => m.update(u32(100), devval(5), 1)),
    Errno.EEXIST,
  );
  assert.equal(
    errnoOf(() => m.update(u32(300), devval(5), 2)),
    Errno.ENOENT,
  );
  assert.equal(
    errnoOf(() => m.update(u32(100), devval(0))),
    Errno.EINVAL,
  );
  assert.deepEqual(
    [...m.keys()].map((k) => getU32(k)),
    [100, 200],
  );
  assert.equal(getU32(m.nextKey(u32(100))!), 200);
  assert.equal(m.nextKey(u32(200)), undefined);
  assert.equal(m.redirectTarget(200)?.ifindex, 4);
});

test("cpumap: queue sizes per possible CPU; qsize 0 empties, > 16384 overflows", () => {
  const m = make({ type: MapType.CPUMAP, valueSize: 8, maxEntries: 4 }, { cpus: 2 }) as CpuMap;
  m.update(u32(1), devval(192, 0));
  assert.deepEqual(m.lookup(u32(1)), devval(192, 0));
  assert.equal(
    errnoOf(() => m.update(u32(3), devval(192, 0))),
    19,
    "CPU 3 is not possible: ENODEV",
  );
  assert.equal(
    errnoOf(() => m.update(u32(0), devval(16385, 0))),
    75,
    "EOVERFLOW",
  );
  assert.equal(
    errnoOf(() => m.update(u32(0), devval(64, 3))),
    Errno.EOPNOTSUPP,
  );
  m.setQueue(1, 0);
  assert.equal(m.lookup(u32(1)), undefined);
});

test("xskmap, sockmap, sockhash: created; the VM's sockets are names set by the host", () => {
  const x = make({ type: MapType.XSKMAP, valueSize: 4 }) as SocketMap;
  assert.equal(
    errnoOf(() => x.update(u32(0), u32(3))),
    Errno.EOPNOTSUPP,
  );
  x.setSocket(0, "queue0");
  assert.deepEqual(x.redirectTarget(0), { socket: "queue0" });
  assert.equal(
    errnoOf(() => x.lookup(u32(0))),
    Errno.EOPNOTSUPP,
  );
  const s = make({ type: MapType.SOCKHASH, keySize: 12, valueSize: 8 }) as SocketMap;
  s.setSocket(new Uint8Array(12).fill(1), "conn");
  assert.equal(s.size, 1);
  assert.equal(s.redirectTarget(0), undefined, "sockets of a sockhash are no XDP target");
  assert.equal(
    errnoOf(() => make({ type: MapType.SOCKMAP, valueSize: 2 })),
    Errno.EINVAL,
  );
});

/** An XDP program returning bpf_redirect_map(map, key, flags). */
function redirector(rt: VmRuntime, spec: VmMapSpec) {
  const map = createVmMap(spec, rt.memory, { cpus: rt.env.cpus });
  const run = (key: number, flags: bigint) =>
    rt
      .loadProgram(
        new ProgramBuilder()
          .lddw(R1, map.handle)
          .mov(R2, key)
          .lddw(R3, flags)
          .call(helperByName("bpf_redirect_map")!.id)
          .exit()
          .build(),
        { type: xdp },
      )
      .testRun({ dataIn: packet });
  return { map, run };
}
const packet = new Uint8Array(readFileSync(join(repoRoot, "bpf/testdata/eth-ipv4-udp.bin")));

test("bpf_redirect_map: XDP_REDIRECT to a full slot with its target recorded, else the flags' action", () => {
  const rt = new VmRuntime({ cpus: 2 });
  const dev = redirector(rt, { name: "tx", type: MapType.DEVMAP, keySize: 4, valueSize: 4, maxEntries: 4 });
  let r = dev.run(1, 2n);
  assert.equal(r.retval, 2, "empty slot: XDP_PASS from the flags");
  assert.equal(r.redirect, undefined);
  assert.equal(dev.run(1, 1n).retval, 1, "XDP_DROP from the flags");
  (dev.map as DevMap).setDevice(1, 42);
  r = dev.run(1, 2n);
  assert.equal(r.retval, 4, "XDP_REDIRECT");
  assert.deepEqual(r.redirect, { kind: "map", target: 1, flags: 2, map: "tx", ifindex: 42 });
  r = dev.run(3, 8n | 16n);
  assert.equal(r.retval, 4, "broadcast redirects without an entry");
  assert.deepEqual(r.redirect, { kind: "map", target: 3, flags: 24, map: "tx" });
  assert.equal(dev.run(1, 1n << 5n).retval, 0, "unknown flags: XDP_ABORTED");

  const cpu = redirector(rt, { name: "cpus", type: MapType.CPUMAP, keySize: 4, valueSize: 4, maxEntries: 2 });
  (cpu.map as CpuMap).setQueue(1, 64);
  assert.deepEqual(cpu.run(1, 0n).redirect, { kind: "map", target: 1, flags: 0, map: "cpus", cpu: 1 });
  assert.equal(cpu.run(1, 8n).retval, 0, "cpumaps do not broadcast: XDP_ABORTED");
  assert.equal(cpu.run(0, 3n).retval, 3, "empty: XDP_TX from the flags");

  const xsk = redirector(rt, { name: "xsks", type: MapType.XSKMAP, keySize: 4, valueSize: 4, maxEntries: 2 });
  (xsk.map as SocketMap).setSocket(0, "rx0");
  assert.equal(xsk.run(0, 2n).redirect?.socket, "rx0");

  const array = redirector(rt, { name: "a", type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  assert.throws(() => array.run(0, 2n), /map 'a' \(array\) is not a devmap/);
});
