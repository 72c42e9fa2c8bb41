/**
 * `tsbpf run --json` on both backends: the kernel RunBackend must print the VM backend's JSON
 * for the same object, program and input (nsPerRun aside), with the same masks by program name
 * as corpus.test.ts, plus what only the JSON shows: map-in-map slots hold map ids, which each
 * backend numbers its own way. Entries are compared sorted by key: the kernel backend sorts
 * them, the VM backend lists them in its own hash order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatRunJson, vmBackend, type RunInput } from "../../src/cli/commands/run.js";
import { kernelRunBackend } from "../../src/kernel/run-backend.js";
import { loadObjectFile, type ObjectSpec } from "../../src/object/index.js";
import { builtinProgramType } from "../../src/vm/program-types/index.js";
import { describeKernel } from "../helpers/kernel-gate.js";
import { CASES, MASKS, VM_BUGS, kernelSkip } from "./cases.js";

/** Map-in-map outer maps: their values are map ids. */
const ID_MAPS: Readonly<Record<string, string>> = {
  by_parity: "array_of_maps slots hold inner map ids: the kernel's are global ids, the VM's its own",
  ports_by_proto: "hash_of_maps values are inner map ids: the kernel's are global ids, the VM's its own",
};

type Json = {
  retval: number;
  dataOut: string;
  nsPerRun: number;
  maps: Record<string, { key: string; value: string | string[] }[]>;
};

function normalized(program: string, json: string): Omit<Json, "nsPerRun"> {
  const { nsPerRun, ...rest } = JSON.parse(json) as Json;
  assert.ok(Number.isFinite(nsPerRun));
  const mask = MASKS[program];
  for (const entries of Object.values(rest.maps))
    if (!entries.some((e) => e.key === ""))
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const name of Object.keys(rest.maps)) {
    if (ID_MAPS[name] || mask?.maps?.includes(name))
      rest.maps[name] = [{ key: "masked", value: ID_MAPS[name] ?? mask!.reason }];
    else if (mask?.cpuSlots)
      rest.maps[name] = rest.maps[name]!.map((e) =>
        Array.isArray(e.value) ? { ...e, value: [...e.value].sort() } : e,
      );
  }
  return rest;
}

describeKernel("differential: tsbpf run --json, VM vs kernel backend", () => {
  const kernel = kernelRunBackend({
    describeReturn: (t, r) => builtinProgramType(t)?.describeReturn(r) ?? String(r),
  });
  for (const c of CASES) {
    const label = c.object.slice(c.object.lastIndexOf("/") + 1);
    const skip = kernelSkip(c);
    for (const r of c.runs) {
      const bug = VM_BUGS[r.program];
      test(`${label} ${r.program}`, skip ? { skip } : bug ? { todo: `VM bug: ${bug}` } : {}, async () => {
        const obj: ObjectSpec = loadObjectFile(c.object);
        const input: RunInput = {
          repeat: 1,
          ...(r.dataIn ? { dataIn: r.dataIn } : {}),
          ...(r.ctxIn ? { ctxIn: r.ctxIn } : {}),
        };
        const k = kernel.run(obj, r.program, input);
        const v = await vmBackend.run(obj, r.program, input);
        assert.equal(k.retvalMeaning, v.retvalMeaning);
        assert.deepEqual(
          normalized(r.program, formatRunJson(v)),
          normalized(r.program, formatRunJson(k)),
          "VM (actual) vs kernel (expected)",
        );
      });
    }
  }
});
