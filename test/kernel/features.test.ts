import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { NotSupportedError } from "../../src/errors.js";
import {
  ATTACH_PROBES,
  MAP_TYPES,
  PROGRAM_TYPES,
  probeHelper,
  probeKprobePmu,
  probeMapType,
  probeProgramType,
  probeTrampolines,
  probeUprobePmu,
  requireFeature,
  supportedHelpers,
} from "../../src/kernel/features/index.js";
import { loadTracingProgram, kernelBtfId } from "../../src/kernel/links/index.js";
import { AttachType, MapType, ProgramType } from "../../src/kernel/sys/index.js";
import { ProgramBuilder, R0 } from "../../src/isa/builder.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

describeKernel("feature probes", () => {
  kernelTest("basic program and map types are available; results are memoised", () => {
    for (const t of [
      ProgramType.SOCKET_FILTER,
      ProgramType.XDP,
      ProgramType.TRACEPOINT,
      ProgramType.SYSCALL,
    ]) {
      const r = probeProgramType(t);
      assert.equal(r.supported, true, r.detail);
    }
    for (const t of [
      MapType.HASH,
      MapType.RINGBUF,
      MapType.SK_STORAGE,
      MapType.CGROUP_STORAGE,
      MapType.ARRAY_OF_MAPS,
    ]) {
      assert.equal(probeMapType(t).supported, true, probeMapType(t).detail);
    }
    assert.equal(probeProgramType(ProgramType.XDP), probeProgramType(ProgramType.XDP));
    assert.equal(PROGRAM_TYPES.length, 32);
    assert.ok(MAP_TYPES.includes(MapType.ARENA));
  });

  kernelTest("helpers: the verifier's 'unknown func' means unavailable for that program type", () => {
    assert.equal(probeHelper(ProgramType.XDP, 1).supported, true); // map_lookup_elem
    assert.equal(probeHelper(ProgramType.KPROBE, 35).supported, true); // get_current_task
    const r = probeHelper(ProgramType.XDP, 36); // probe_write_user
    assert.equal(r.supported, false);
    assert.match(r.detail, /xdp programs cannot call bpf_probe_write_user/);
    const names = supportedHelpers(ProgramType.SOCKET_FILTER).map((h) => h.name);
    assert.ok(names.includes("bpf_map_lookup_elem") && !names.includes("bpf_probe_write_user"));
  });

  kernelTest("attach probes agree with what attaching does on this kernel", () => {
    assert.equal(probeKprobePmu().supported, existsSync("/sys/bus/event_source/devices/kprobe/type"));
    assert.equal(probeUprobePmu().supported, existsSync("/sys/bus/event_source/devices/uprobe/type"));
    let fentryLoads: boolean;
    try {
      loadTracingProgram({
        type: "tracing",
        expectedAttachType: AttachType.TRACE_FENTRY,
        attachBtfId: kernelBtfId(AttachType.TRACE_FENTRY, "bpf_fentry_test1"),
        insns: new ProgramBuilder().mov(R0, 0).exit().build(),
        license: "GPL",
        name: uniqueName("fprobe"),
      }).close();
      fentryLoads = true;
    } catch (e) {
      assert.ok(e instanceof NotSupportedError, String(e));
      fentryLoads = false;
    }
    const trampolines = probeTrampolines();
    assert.equal(trampolines.supported, fentryLoads, trampolines.detail);
    if (!trampolines.supported) {
      assert.match(trampolines.detail, /BPF trampolines/);
      assert.throws(() => requireFeature(trampolines), /BPF trampolines not supported/);
    }
    for (const probe of ATTACH_PROBES) {
      const r = probe();
      assert.ok(r.detail.length > 10, `${r.name} explains itself`);
    }
  });
});
