import { TsbpfError } from "../../errors.js";
import { assembleConformance } from "../../isa/asm/conformance.js";
import { parseConformanceData, type ConformanceData } from "../../isa/asm/conformance-data.js";
import { decode } from "../../isa/codec.js";
import type { Instruction } from "../../isa/instruction.js";
import { CONFORMANCE_UNWIND_HELPER_ID, HelperRegistry, unwindHelper } from "../helper-registry.js";
import { Interpreter } from "../interpreter.js";
import { Memory } from "../memory.js";

/**
 * Runs tests of the BPF conformance suite (github.com/Alan-Jowett/bpf_conformance) in the
 * interpreter, with the suite's conventions: r1 = address of the test memory, r2 = its length,
 * helper 5 = uBPF's "unwind". Unlike the upstream runner, which compares only the low 32 bits of
 * r0, the whole 64-bit result must match.
 */

/** The helpers the suite's programs may call. */
export function conformanceHelpers(): HelperRegistry {
  return new HelperRegistry().register(CONFORMANCE_UNWIND_HELPER_ID, "unwind", unwindHelper);
}

/** Run a program the way the suite does; returns r0. Throws TsbpfError on a load error or fault. */
export function runConformanceProgram(program: readonly Instruction[], mem: Uint8Array): bigint {
  const interpreter = new Interpreter(program, { helpers: conformanceHelpers() });
  const memory = new Memory();
  const region = memory.addRegion({ kind: "context", name: "memory", bytes: mem });
  const r1 = mem.length > 0 ? region.base : 0n;
  return interpreter.run({ memory, registers: { r1, r2: BigInt(mem.length) } }).r0;
}

export type ConformanceStatus = "pass" | "fail";

export interface ConformanceOutcome {
  readonly file: string;
  readonly status: ConformanceStatus;
  /** Why the test failed (one line). */
  readonly reason?: string;
  /** r0 when the program ran to its end. */
  readonly r0?: bigint;
}

const hex64 = (v: bigint) => `0x${v.toString(16)}`;

function programOf(data: ConformanceData, file: string): Instruction[] {
  if (data.raw !== undefined) return decode(data.raw, { file });
  if (data.asm !== undefined) return assembleConformance(data.asm, file);
  throw new TsbpfError("no program (neither an asm nor a raw section)");
}

/** Run one `.data` test given its text. Never throws for bad tests: they fail with a reason. */
export function runConformanceTest(text: string, file: string): ConformanceOutcome {
  let data: ConformanceData;
  let program: Instruction[];
  try {
    data = parseConformanceData(text, file);
    program = programOf(data, file);
    if (program.length === 0) throw new TsbpfError("empty program");
  } catch (e) {
    return { file, status: "fail", reason: `not loaded: ${messageOf(e, file)}` };
  }
  const expectsError = data.error !== undefined && data.error !== "";
  let r0: bigint;
  try {
    r0 = runConformanceProgram(program, Uint8Array.from(data.mem));
  } catch (e) {
    const message = messageOf(e, file);
    if (expectsError && message.includes(data.error!)) return { file, status: "pass" };
    return { file, status: "fail", reason: `error: ${message}` };
  }
  if (expectsError)
    return { file, status: "fail", r0, reason: `expected error '${data.error}', got r0 = ${hex64(r0)}` };
  if (data.result === undefined)
    return { file, status: "fail", r0, reason: `no -- result section (r0 = ${hex64(r0)})` };
  if (r0 !== data.result)
    return { file, status: "fail", r0, reason: `r0 = ${hex64(r0)}, expected ${hex64(data.result)}` };
  return { file, status: "pass", r0 };
}

/** One-line message of an error, without the file name the report already shows. */
function messageOf(e: unknown, file: string): string {
  if (e instanceof TsbpfError) {
    const m = e.message;
    if (m.startsWith(`${file}:`))
      return m
        .slice(file.length + 1)
        .replace(/^(\d+):/, "line $1:")
        .trim();
    return m;
  }
  // A non-tsbpf exception is a bug of ours: keep it visible but on one line.
  return `internal error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}
