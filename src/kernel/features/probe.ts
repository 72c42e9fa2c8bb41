import { NotSupportedError } from "../../errors.js";
import { ProgramBuilder, R0 } from "../../isa/builder.js";
import { encode } from "../../isa/codec.js";
import type { Instruction } from "../../isa/instruction.js";
import { describeErrno } from "../errors.js";
import { PROG_LOAD_ATTR, closeFd, progLoadRaw, type Encodable } from "../sys/index.js";

/** The outcome of one probe. */
export interface FeatureResult {
  /** "program_type socket_filter", "map_type ringbuf", "attach tcx"… */
  readonly name: string;
  readonly supported: boolean;
  /** Why: what was tried and what the kernel answered. */
  readonly detail: string;
}

const cache = new Map<string, FeatureResult>();

/** Runs `probe` once per name for the life of the process. */
export function memoised(name: string, probe: () => Omit<FeatureResult, "name">): FeatureResult {
  let result = cache.get(name);
  if (!result) {
    try {
      result = { name, ...probe() };
    } catch (e) {
      result = { name, supported: false, detail: `probe failed: ${(e as Error).message}` };
    }
    cache.set(name, result);
  }
  return result;
}

/** Forgets every probe result (tests; after loading a kernel module). */
export function clearFeatureCache(): void {
  cache.clear();
}

/** Throws NotSupportedError naming the feature and the probe's explanation when unsupported. */
export function requireFeature(result: FeatureResult): void {
  if (!result.supported) throw new NotSupportedError(result.name, result.detail);
}

/** `mov r0, 0; exit` */
export const RETURN_ZERO: readonly Instruction[] = new ProgramBuilder().mov(R0, 0).exit().build();

/** What a probe load gave: a closed fd on success, else the errno and the verifier log. */
export interface ProbeLoad {
  readonly ok: boolean;
  readonly errno: number;
  readonly errnoName: string;
  readonly log: string;
}

/** Loads a program to see what the kernel says (log level 1), closing it at once. */
export function probeLoad(
  attr: Omit<Encodable<typeof PROG_LOAD_ATTR>, "insns" | "insn_cnt" | "log_buf" | "log_size" | "log_level">,
  insns: readonly Instruction[] = RETURN_ZERO,
  withLog = true,
): ProbeLoad {
  const bytes = encode(insns);
  const log = withLog ? new Uint8Array(16 * 1024) : null;
  const r = progLoadRaw({
    license: "GPL",
    ...attr,
    insns: bytes,
    insn_cnt: bytes.byteLength / 8,
    log_level: log ? 1 : 0,
    log_size: log?.byteLength ?? 0,
    log_buf: log,
  });
  if (r.ret >= 0) {
    closeFd(r.ret);
    return { ok: true, errno: 0, errnoName: "", log: "" };
  }
  const nul = log ? log.indexOf(0) : 0;
  const text = log ? new TextDecoder().decode(log.subarray(0, nul < 0 ? log.length : nul)) : "";
  return { ok: false, errno: -r.ret, errnoName: describeErrno(-r.ret)[0], log: text };
}

/** The last meaningful line of a verifier log. */
export function lastLogLine(log: string): string {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^processed \d+ insns|^verification time|^stack depth/.test(l));
  return lines.at(-1) ?? "";
}
