import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NotSupportedError } from "../../../src/errors.js";
import { KernelMap, testRun } from "../../../src/kernel/index.js";
import {
  KernelCollection,
  PinnedMapMismatchError,
  ProgramVerifierError,
  type KernelCollectionOptions,
} from "../../../src/kernel/object/index.js";
import { parseBtf } from "../../../src/btf/index.js";
import { loadObjectFile, loadObjectSpec } from "../../../src/object/index.js";
import { describeKernel, kernelTest } from "../../helpers/kernel-gate.js";
import { repoRoot } from "../../helpers/shared.js";

const obj = (...parts: string[]): string => join(repoRoot, ...parts);
const FIXTURE = obj("test", "kernel", "object", "fixtures", "null_deref.bpf.o");
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");
const packet = (name: string): Uint8Array => new Uint8Array(readFileSync(obj("bpf", "testdata", name)));
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

let seq = 0;
/** A fresh pin directory under /sys/fs/bpf, removed (with everything pinned in it) by the returned cleanup. */
function pinDir(): { path: string; [Symbol.dispose](): void } {
  const path = `/sys/fs/bpf/tsbpf-test-${process.pid}-${seq++}`;
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

function load(path: string, options: KernelCollectionOptions = {}): KernelCollection {
  return KernelCollection.load(loadObjectFile(path), options);
}

describeKernel("KernelCollection", () => {
  kernelTest(
    "global data: .data/.rodata/.bss maps filled, .rodata frozen, results readable by section",
    () => {
      using c = load(obj("bpf/lang/global_data.bpf.o"));
      const r = testRun(c.program("global_data"), { ctxIn: new Uint8Array(0) });
      assert.equal(r.retval, 160);
      assert.equal(hex(c.map(".data").lookup(u32(0))), "65000000");
      assert.equal(hex(c.map(".data.stats").lookup(u32(0))), "08000000");
      // .rodata is frozen: userspace cannot write it.
      const rodata = c.map(".rodata");
      assert.throws(() => rodata.update(u32(0), new Uint8Array(rodata.info.valueSize)), /EPERM|read-only/);
      // Global data maps are mmapable (BPF_F_MMAPABLE = 1024) like libbpf's.
      assert.equal(c.map(".data").info.flags & 1024, 1024);
    },
  );

  kernelTest("BTF: maps get key/value type ids, programs func_info and line_info", () => {
    using c = load(obj("bpf/maps/hash.bpf.o"));
    const m = c.map("proto_count");
    assert.notEqual(m.info.btfId, 0);
    assert.notEqual(m.info.btfValueTypeId, 0);
    const info = c.program("hash_count_proto").info();
    assert.ok(info.nrFuncInfo >= 1);
    assert.ok(info.nrLineInfo > 1);
    assert.equal(info.btfId, m.info.btfId);
  });

  kernelTest("btf: false loads without BTF (no type ids)", () => {
    using c = load(obj("bpf/maps/hash.bpf.o"), { btf: false });
    assert.equal(c.btf, undefined);
    assert.equal(c.map("proto_count").info.btfId, 0);
    assert.equal(c.program("hash_count_proto").info().nrLineInfo, 0);
  });

  kernelTest("BTF the kernel rejects: retried sanitized, then loaded without BTF, said in the log", () => {
    const good = loadObjectFile(obj("bpf/lang/global_data.bpf.o"));
    const bytes = good.btf!.bytes.slice();
    // Give the first INT an encoding no kernel accepts (bits 24-27: 0xf).
    const id = [...Array(good.btf!.count).keys()].find((i) => i > 0 && good.btf!.kindOf(i) === "int")!;
    const at = good.btf!.offsetOf(id)! + 12;
    new DataView(bytes.buffer).setUint32(
      at,
      new DataView(bytes.buffer).getUint32(at, true) | (0xf << 24),
      true,
    );
    const messages: string[] = [];
    using c = KernelCollection.load({ ...good, btf: parseBtf(bytes) }, { log: (m) => messages.push(m) });
    assert.equal(c.btf, undefined);
    assert.match(messages.join("\n"), /retrying with kinds old kernels reject replaced/);
    assert.match(
      messages.join("\n"),
      /loading without BTF \(no func_info\/line_info, no map key\/value types\)/,
    );
    assert.equal(testRun(c.program("global_data"), { ctxIn: new Uint8Array(0) }).retval, 160);
    assert.equal(c.map(".data").info.btfId, 0);
  });

  kernelTest("prog array initial values are filled after the programs load (tail call)", () => {
    using c = load(obj("bpf/maps/prog_array_tail_call.bpf.o"));
    assert.equal(testRun(c.program("tail_call_entry"), { dataIn: packet("eth-ipv4-udp.bin") }).retval, 3);
  });

  kernelTest("map-in-map: inner template and initial slots", () => {
    using c = load(obj("bpf/maps/array_of_maps.bpf.o"));
    assert.equal(
      testRun(c.program("array_of_maps_count"), { dataIn: packet("eth-ipv4-icmp-echo.bin") }).retval,
      2,
    );
    assert.equal(hex(c.map("inner_even").lookup(u32(0))), "0100000000000000");
  });

  kernelTest(
    "kfuncs (open-coded iterators), CO-RE against the running kernel, kconfig",
    { requires: ["open-coded-iter"] },
    () => {
      using iter = load(obj("bpf/scenarios/open_coded_iter_1000.bpf.o"));
      assert.equal(testRun(iter.program("open_coded_iter_1000"), { ctxIn: new Uint8Array(0) }).retval, 1000);
      using core = load(obj("bpf/lang/core_reads.bpf.o"));
      assert.equal(
        testRun(core.program("core_reads"), { ctxIn: new Uint8Array(16), ctxSizeOut: 0 }).retval,
        127,
      );
      using kc = load(obj("bpf/lang/kconfig.bpf.o"));
      assert.equal(testRun(kc.program("kconfig_values"), { ctxIn: new Uint8Array(0) }).retval, 250);
    },
  );

  kernelTest("tp_btf and iter programs get their attach BTF id", () => {
    using c = load(obj("bpf/progs/tp_btf_sched_switch.bpf.o"));
    assert.notEqual(c.program("tp_btf_switch").info().attachBtfId, 0);
    using it = load(obj("bpf/progs/iter_task.bpf.o"));
    assert.notEqual(it.program("iter_task_list").info().attachBtfId, 0);
  });

  kernelTest(
    "LIBBPF_PIN_BY_NAME: created and pinned, then reused by the next load; close keeps the pin",
    () => {
      using dir = pinDir();
      const path = `${dir.path}/tsbpf_pinned_hits`;
      {
        using c = load(obj("bpf/maps/pinned_by_name.bpf.o"), { pinPath: dir.path });
        assert.equal(c.pins.get("tsbpf_pinned_hits"), path);
        assert.equal(testRun(c.program("pinned_hit"), { ctxIn: new Uint8Array(0) }).retval, 1);
      }
      assert.ok(existsSync(path), "the pin outlives the collection");
      {
        using c = load(obj("bpf/maps/pinned_by_name.bpf.o"), { pinPath: dir.path });
        assert.equal(testRun(c.program("pinned_hit"), { ctxIn: new Uint8Array(0) }).retval, 2);
      }
      using pinned = KernelMap.fromPin(path);
      assert.equal(hex(pinned.lookup(u32(0))), "0200000000000000");
    },
  );

  kernelTest("iproute2 PIN_GLOBAL_NS goes to <pinPath>/tc/globals/NAME", () => {
    using dir = pinDir();
    using c = load(obj("bpf/maps/iproute2_elf_map.bpf.o"), { pinPath: dir.path });
    assert.equal(c.pins.get("tc_ingress_bytes"), `${dir.path}/tc/globals/tc_ingress_bytes`);
    assert.equal(testRun(c.program("tc_count_bytes"), { dataIn: packet("eth-ipv4-udp.bin") }).retval, 0);
    assert.equal(hex(c.map("tc_ingress_bytes").lookup(u32(0))), "3c00000000000000");
  });

  kernelTest("a pinned map of another shape is refused with every mismatch named", () => {
    using dir = pinDir();
    const path = `${dir.path}/tsbpf_pinned_hits`;
    mkdirSync(dir.path, { recursive: true });
    {
      using other = KernelMap.create({
        type: "hash",
        keySize: 4,
        valueSize: 4,
        maxEntries: 7,
        name: "other",
      });
      other.pin(path);
    }
    assert.throws(
      () => load(obj("bpf/maps/pinned_by_name.bpf.o"), { pinPath: dir.path }),
      (e: unknown) => {
        assert.ok(e instanceof PinnedMapMismatchError);
        assert.match(e.message, new RegExp(`${path}`));
        assert.match(e.message, /type is hash, the object wants array/);
        assert.match(e.message, /value size is 4, the object wants 8/);
        assert.match(e.message, /max entries is 7, the object wants 1/);
        return true;
      },
    );
  });

  kernelTest("verifier rejection: the reason, the instruction and the C source line in one line", () => {
    assert.throws(
      () => load(FIXTURE),
      (e: unknown) => {
        assert.ok(e instanceof ProgramVerifierError);
        assert.match(
          e.message,
          /^program 'null_deref' \(xdp\) of .*null_deref\.bpf\.o: verifier rejected it \(EACCES\)/,
        );
        assert.match(e.message, /R0 invalid mem access 'map_value_or_null'/);
        assert.match(e.message, /at insn 7 `r1 = \*\(u64 \*\)\(r0 \+ 0x0\)`/);
        assert.match(e.message, /null_deref\.bpf\.c:21: return \*count > 10 \? XDP_DROP : XDP_PASS;/);
        assert.match(e.message, /hint: a pointer that may be NULL/);
        assert.equal(
          e.sourceLine,
          "test/kernel/object/fixtures/null_deref.bpf.c:21: return *count > 10 ? XDP_DROP : XDP_PASS;",
        );
        assert.match(e.log, /processed \d+ insns|invalid mem access/);
        assert.ok(!e.message.includes("\n"));
        return true;
      },
    );
  });

  kernelTest("fentry and lsm: NotSupportedError naming BPF trampolines", { lacks: ["trampoline"] }, () => {
    for (const file of ["bpf/progs/fentry_unlinkat.bpf.o", "bpf/progs/lsm_file_open.bpf.o"]) {
      assert.throws(
        () => load(obj(file)),
        (e: unknown) => {
          assert.ok(e instanceof NotSupportedError, String(e));
          assert.equal(e.feature, "BPF trampolines");
          assert.match(e.message, /BPF trampolines not supported/);
          return true;
        },
      );
    }
  });

  kernelTest("close() closes every fd and is idempotent; bytes without a file still load", () => {
    const bytes = new Uint8Array(readFileSync(obj("bpf/maps/array.bpf.o")));
    const c = KernelCollection.load(loadObjectSpec(bytes), { elf: bytes });
    const m = c.map("packet_stats");
    const p = c.program("array_count");
    c.close();
    c.close();
    assert.ok(m.closed && p.closed && c.closed);
    assert.throws(() => m.fd, /closed/);
  });

  kernelTest("unknown map and program names list the ones there are", () => {
    using c = load(obj("bpf/maps/array.bpf.o"));
    assert.throws(() => c.map("nope"), /no map 'nope' \(maps: packet_stats\)/);
    assert.throws(() => c.program("nope"), /no program 'nope' \(programs: array_count\)/);
    assert.throws(() => load(obj("bpf/maps/array.bpf.o"), { programs: ["nope"] }), /no program named 'nope'/);
  });
});
