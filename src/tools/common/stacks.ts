/**
 * Stack traces from a BPF_MAP_TYPE_STACK_TRACE map (bpf_get_stackid) and the two ways BCC prints
 * them: the multi-line listing of profile/offcputime and the folded one-line form that
 * flamegraph.pl (and flamegraph.ts) read.
 */
import { formatSymbol, type FormatOptions, type Symbolizer } from "./symbolize.js";

/** EFAULT: bpf_get_stackid's answer when there is no stack of that kind (a kernel thread's user stack). */
const EFAULT = 14;

/** Anything a stack id can be looked up in (KernelMap, LoadedMap). */
export interface StackTraceMap {
  lookup(key: Uint8Array): Uint8Array | undefined;
}

/** A failed bpf_get_stackid other than "no such stack" (-EFAULT): -ENOMEM, -EEXIST… (BCC's stack_id_err). */
export function stackIdError(id: number): boolean {
  return id < 0 && id !== -EFAULT;
}

/** Decodes one stack-trace map value: u64 instruction pointers, innermost first, up to the first 0. */
export function decodeStack(value: Uint8Array): bigint[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= value.byteLength; at += 8) {
    const ip = view.getBigUint64(at, true);
    if (ip === 0n) break;
    out.push(ip);
  }
  return out;
}

/** Reads stacks by id from a stack-trace map, each once. */
export class StackReader {
  readonly #cache = new Map<number, bigint[]>();
  constructor(private readonly map: StackTraceMap) {}

  /** The addresses of stack `id`, innermost first; [] for negative or vanished ids. */
  get(id: number): bigint[] {
    if (id < 0) return [];
    let s = this.#cache.get(id);
    if (!s) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, id, true);
      const v = this.map.lookup(key);
      s = v ? decodeStack(v) : [];
      this.#cache.set(id, s);
    }
    return s;
  }
}

/** One aggregated stack: who, which stacks, how much (samples, microseconds, bytes…). */
export interface StackSample {
  /** The id printed after the comm: a process (profile) or a thread (offcputime). */
  readonly pid: number;
  /** The process whose address space user frames belong to (default: pid). */
  readonly tgid?: number;
  readonly comm: string;
  readonly userStackId: number;
  readonly kernelStackId: number;
  readonly value: number;
}

/** Which stacks a tool collected (profile -U / -K). */
export interface StackSelection {
  readonly userStacksOnly?: boolean;
  readonly kernelStacksOnly?: boolean;
}

/** A sample with its frames symbolized, innermost first. */
export interface SymbolizedStack extends StackSample {
  /** Kernel frames, or undefined when the kernel stack was not collected. */
  readonly kernel: readonly string[] | undefined;
  readonly user: readonly string[] | undefined;
  readonly kernelMissed: boolean;
  readonly userMissed: boolean;
}

/** Options of symbolizeStacks. */
export interface SymbolizeOptions extends StackSelection {
  /** sym+0x1f and [module] decorations (BCC -a / show_offset). */
  readonly format?: FormatOptions;
  /** Kernel frames get "_[k]" in folded output (BCC --annotations). */
  readonly annotate?: boolean;
  /**
   * Innermost kernel frames to leave out while they match: the tracing machinery a program on
   * a tracepoint sees on top of the stack (TRACING_FRAMES).
   */
  readonly dropInnermost?: RegExp;
}

/** Frames of the BPF tracing machinery itself (bpf_prog_…, bpf_trace_run4, __traceiter_…). */
export const TRACING_FRAMES =
  /^(bpf_prog_[0-9a-f]+_\w+|bpf_trace_run\d+|__traceiter_\w+|__bpf_trace_\w+|trace_call_bpf|perf_trace_run_bpf_submit)(\+0x[0-9a-f]+)?$/;

/** Resolves every frame of the samples (each process's maps read once, while they still exist). */
export function symbolizeStacks(
  samples: readonly StackSample[],
  stacks: StackReader,
  symbolizer: Symbolizer,
  options: SymbolizeOptions = {},
): SymbolizedStack[] {
  symbolizer.preload(new Set(samples.map((s) => s.tgid ?? s.pid)));
  const fmt = options.format ?? {};
  return samples.map((s) => {
    let kernelIps = options.userStacksOnly ? [] : stacks.get(s.kernelStackId);
    if (options.dropInnermost) {
      const drop = options.dropInnermost;
      let n = 0;
      while (n < kernelIps.length && drop.test(symbolizer.kernel(kernelIps[n]!).name)) n++;
      kernelIps = kernelIps.slice(n);
    }
    const kernel = options.userStacksOnly
      ? undefined
      : kernelIps.map((ip) => formatSymbol(symbolizer.kernel(ip), fmt) + (options.annotate ? "_[k]" : ""));
    const user = options.kernelStacksOnly
      ? undefined
      : stacks.get(s.userStackId).map((ip) => formatSymbol(symbolizer.user(s.tgid ?? s.pid, ip), fmt));
    return {
      ...s,
      kernel,
      user,
      kernelMissed: !options.userStacksOnly && stackIdError(s.kernelStackId),
      userMissed: !options.kernelStacksOnly && stackIdError(s.userStackId),
    };
  });
}

/** How stacks are printed. */
export interface StackFormat {
  /** Separate kernel and user frames ("--" in listings, "-" in folded lines): BCC's -d. */
  readonly delimiter?: boolean;
}

/** With -d, both kinds collected and both present: BCC separates them with "--" / "-". */
function needsDelimiter(s: SymbolizedStack, f: StackFormat): boolean {
  return (
    f.delimiter === true &&
    s.kernel !== undefined &&
    s.user !== undefined &&
    s.kernelStackId >= 0 &&
    s.userStackId >= 0
  );
}

/**
 * BCC's multi-line form (profile.py, offcputime.py): kernel frames, "--", user frames, then
 * `-                comm (pid)` and the value.
 */
export function formatStackLines(s: SymbolizedStack, f: StackFormat = {}): string {
  const lines: string[] = [];
  if (s.kernel !== undefined) {
    if (s.kernelMissed) lines.push("    [Missed Kernel Stack]");
    else for (const f of s.kernel) lines.push(`    ${f}`);
  }
  if (s.user !== undefined) {
    if (needsDelimiter(s, f)) lines.push("    --");
    if (s.userMissed) lines.push("    [Missed User Stack]");
    else for (const f of s.user) lines.push(`    ${f}`);
  }
  lines.push(`    ${"-".padEnd(16)} ${s.comm} (${s.pid})`);
  lines.push(`        ${s.value}`);
  return `${lines.join("\n")}\n\n`; // BCC leaves a blank line after each stack
}

/** The frames of the folded form, outermost first: comm;user…;-;kernel… (BCC profile -f). */
export function foldedFrames(s: SymbolizedStack, f: StackFormat = {}): string[] {
  const line = [s.comm];
  if (s.user !== undefined) {
    if (s.userMissed) line.push("[Missed User Stack]");
    else line.push(...[...s.user].reverse());
  }
  if (s.kernel !== undefined) {
    if (needsDelimiter(s, f)) line.push("-");
    if (s.kernelMissed) line.push("[Missed Kernel Stack]");
    else line.push(...[...s.kernel].reverse());
  }
  // flamegraph.pl splits frames on ';' (the count is after the last space, so spaces may stay).
  return line.map((f) => f.replace(/;/g, ":"));
}

/** One folded line: `frame;frame;frame value`. */
export function foldedLine(s: SymbolizedStack, f: StackFormat = {}): string {
  return `${foldedFrames(s, f).join(";")} ${s.value}`;
}

/** Merges samples whose folded stacks are equal (per-thread keys, ids that symbolize alike). */
export function mergeFolded(stacks: readonly SymbolizedStack[], f: StackFormat = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of stacks) {
    const key = foldedFrames(s, f).join(";");
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}
