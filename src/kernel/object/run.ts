/**
 * Test runs of an object's programs with the rules BPF_PROG_TEST_RUN has per program type:
 * syscall, raw_tp and tracing programs refuse a ctx_out buffer, data and `repeat` (they run once
 * per call, so repeats are calls, timed here), the packet types take data, context and repeat.
 */
import type { ProgramSpec } from "../../object/index.js";
import type { KernelProgram } from "../program.js";
import { testRun } from "../test-run.js";

/** Program types whose test run takes data and repeat and hands the context back. */
const PACKET_TYPES = new Set([
  "socket_filter",
  "sched_cls",
  "sched_act",
  "xdp",
  "cgroup_skb",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "lwt_seg6local",
  "flow_dissector",
  "sk_lookup",
  "netfilter",
]);

export interface ProgramRunInput {
  readonly dataIn?: Uint8Array | undefined;
  readonly ctxIn?: Uint8Array | undefined;
  /** Runs (default 1); the outputs are the last run's. */
  readonly repeat?: number | undefined;
}

export interface ProgramRunOutput {
  readonly retval: number;
  readonly dataOut: Uint8Array | undefined;
  readonly ctxOut: Uint8Array | undefined;
  /** Mean ns of one run (the kernel's measure for packet types, wall time of the calls for the others). */
  readonly nsPerRun: number;
}

/** Runs `program` (loaded from `spec`) like BPF_PROG_TEST_RUN, following its type's rules. */
export function runKernelProgram(
  program: KernelProgram,
  spec: ProgramSpec,
  input: ProgramRunInput = {},
): ProgramRunOutput {
  const repeat = input.repeat ?? 1;
  if (PACKET_TYPES.has(spec.typeName)) {
    const r = testRun(program, {
      ...(input.dataIn ? { dataIn: input.dataIn } : {}),
      ...(input.ctxIn ? { ctxIn: input.ctxIn } : {}),
      ...(repeat > 1 ? { repeat } : {}),
    });
    return { retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut, nsPerRun: r.duration };
  }
  const options = {
    ...(input.ctxIn ? { ctxIn: input.ctxIn } : {}),
    ctxSizeOut: 0,
    ...(input.dataIn ? { dataIn: input.dataIn } : {}),
  };
  const start = process.hrtime.bigint();
  let r = testRun(program, options);
  for (let i = 1; i < repeat; i++) r = testRun(program, options);
  const ns = Number(process.hrtime.bigint() - start) / repeat;
  return { retval: r.retval, dataOut: r.dataOut, ctxOut: undefined, nsPerRun: ns };
}
