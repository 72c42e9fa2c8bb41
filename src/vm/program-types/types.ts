/**
 * A program type of the userspace VM: the context the program sees, the helpers it may call, what
 * its return value means, and how a test run (BPF_PROG_TEST_RUN semantics) builds its context.
 * The built-in types are in ./index.ts; `defineProgramType` (./custom.ts) makes new ones.
 */
import type { ProgramType } from "../../object/types.js";
import type { Memory, Region } from "../memory.js";
import type { ContextLayout } from "../runtime/ctx-access.js";
import type { PacketState, RuntimeEnv } from "../runtime/env.js";

/** The input of one test run, as BPF_PROG_TEST_RUN's data_in and ctx_in. */
export interface TestRunInput {
  readonly dataIn?: Uint8Array;
  readonly ctxIn?: Uint8Array;
}

/** The context of a prepared run; `finish` reads the results and unmaps the run's regions. */
export interface PreparedRun {
  /** r1: the context's address (0 when the type runs without a context). */
  readonly ctxAddress: bigint;
  /** The region LD_ABS / LD_IND read (skb types). */
  readonly ldAbsPacket?: Region;
  /** The packet state the packet helpers act on. */
  readonly packet?: PacketState;
  /** data_out and ctx_out as the kernel would copy them out, then unmap the regions. */
  finish(): { readonly dataOut?: Uint8Array; readonly ctxOut?: Uint8Array };
}

/** How a packet program's return value treats the packet (pcap runs). */
export interface PacketVerdict {
  /** "XDP_PASS", "TC_ACT_OK", "keep", "drop"… */
  readonly name: string;
  /** Whether the (possibly modified) packet continues (is written to the output capture). */
  readonly passes: boolean;
  /** Bytes of the packet that continue (socket filters truncate); undefined = all. */
  readonly keep?: number;
}

export interface ProgramTypeDef {
  /** libbpf's name ("xdp", "sched_cls") or the custom type's name. */
  readonly name: string;
  /** The kernel's enum bpf_prog_type value; undefined for custom types. */
  readonly kernelType: ProgramType | undefined;
  readonly context: ContextLayout;
  /** Helper names (as in src/isa/helpers.ts) its programs may call. */
  readonly helpers: readonly string[];
  /** Kfunc names its programs may call. */
  readonly kfuncs: readonly string[];
  /** What a return value means: "XDP_PASS (2)". */
  describeReturn(retval: number): string;
  /** Build the context (and packet) of a test run in `memory`. Throws TestRunInputError on bad input. */
  prepare(memory: Memory, env: RuntimeEnv, input: TestRunInput): PreparedRun;
  /** Packet types: what a return value does to the packet. */
  readonly verdict?: (retval: number) => PacketVerdict;
}
