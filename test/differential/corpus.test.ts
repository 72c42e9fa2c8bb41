/**
 * VM vs kernel: every program of bpf/corpus.json with a test run, and every program of
 * ../shared/bench, runs on both backends with the same input; retval, output data and the
 * contents of every readable map must be identical, except what the MASKS table names (values
 * only the kernel can produce: clocks, CPU ids, random numbers...), each with its reason.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { loadSync, type LoadedObject } from "../../src/load.js";
import { describeKernel, provesFeatures } from "../helpers/kernel-gate.js";
import { CASES, KERNEL_REQUIRES, MASKS, VM_BUGS, kernelSkip } from "./cases.js";
import { snapshot, type RunSnapshot } from "./snapshot.js";

/** Applies the program's mask to a snapshot. */
function masked(program: string, s: RunSnapshot): RunSnapshot {
  const m = MASKS[program];
  if (!m) return s;
  const maps = { ...s.maps };
  for (const name of m.maps ?? []) if (name in maps) maps[name] = [{ key: "masked", value: m.reason }];
  if (m.cpuSlots)
    for (const [name, entries] of Object.entries(maps))
      maps[name] = entries.map((e) =>
        Array.isArray(e.value) ? { ...e, value: [...(e.value as string[])].sort() } : e,
      );
  return { ...s, retval: m.retval ? -1 : s.retval, maps };
}

let seq = 0;

describeKernel("differential: VM vs kernel", () => {
  test("the mask table names only programs that are run", () => {
    const names = new Set(CASES.flatMap((c) => c.runs.map((r) => r.program)));
    const named = [...Object.keys(MASKS), ...Object.keys(VM_BUGS), ...Object.keys(KERNEL_REQUIRES)];
    for (const name of named.filter((n) => n !== "xdp_fib_lookup")) assert.ok(names.has(name), name);
  });

  for (const c of CASES) {
    const label = c.object.slice(c.object.lastIndexOf("/") + 1);
    const bug = c.runs.map((r) => VM_BUGS[r.program]).find((b) => b !== undefined);
    const skip = kernelSkip(c);
    test(
      `${label}: ${c.runs.map((r) => r.program).join(", ")}`,
      skip ? { skip } : bug ? { todo: `VM bug: ${bug}` } : {},
      (t) => {
        provesFeatures(
          t,
          c.runs.flatMap((r) => KERNEL_REQUIRES[r.program] ?? []),
        );
        const pinPath = `/sys/fs/bpf/tsbpf-test-diff-${process.pid}-${seq++}`;
        let kernel: LoadedObject | undefined;
        let vm: LoadedObject | undefined;
        try {
          kernel = loadSync(c.object, { backend: "kernel", pinPath });
          vm = loadSync(c.object, { backend: "vm", vm: { randomSeed: 1 } });
          for (const r of c.runs) {
            const input = {
              ...(r.dataIn ? { dataIn: r.dataIn } : {}),
              ...(r.ctxIn ? { ctxIn: r.ctxIn } : {}),
            };
            const k = kernel.program(r.program).run(input);
            const v = vm.program(r.program).run(input);
            if (r.expected !== undefined)
              assert.equal(k.retval, r.expected, `${r.program}: kernel retval vs corpus.json`);
            assert.deepEqual(
              masked(r.program, snapshot(vm, v)),
              masked(r.program, snapshot(kernel, k)),
              `${r.program}: VM (actual) vs kernel (expected)`,
            );
          }
        } finally {
          kernel?.close();
          vm?.close();
          rmSync(pinPath, { recursive: true, force: true });
        }
      },
    );
  }
});
