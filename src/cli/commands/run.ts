/**
 * `tsbpf run OBJ`: run one program of an object once (or N times) like BPF_PROG_TEST_RUN, or over
 * every packet of a capture. The run itself is a backend (`RunBackend`): the userspace VM now,
 * the kernel later; both print through `formatRunJson` / `formatRunText`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { TsbpfError } from "../../errors.js";
import { loadObjectFile } from "../../object/index.js";
import type { ObjectSpec } from "../../object/spec.js";
import { VmFault } from "../../vm/fault.js";
import { readCapture, writePcap, writePcapng } from "../../vm/pcap/index.js";
import { dumpMaps, runCapture, VmRuntime, type MapEntryDump } from "../../vm/runtime/index.js";
import { integerOption, parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/** The input of one run (BPF_PROG_TEST_RUN's). */
export interface RunInput {
  readonly dataIn?: Uint8Array;
  readonly ctxIn?: Uint8Array;
  /** Runs (default 1); the outputs are the last run's. */
  readonly repeat: number;
  /** CPU to run on (default 0). */
  readonly cpu?: number;
}

/** What a backend reports. */
export interface RunOutput {
  readonly program: string;
  /** libbpf's name of the program type. */
  readonly programType: string;
  readonly retval: number;
  /** The return value's meaning: "XDP_PASS (2)". */
  readonly retvalMeaning: string;
  readonly dataOut: Uint8Array | undefined;
  readonly nsPerRun: number;
  /** Map contents by display name (global data by section). */
  readonly maps: Readonly<Record<string, readonly MapEntryDump[]>>;
}

/** Where a program runs. */
export interface RunBackend {
  readonly name: string;
  run(obj: ObjectSpec, prog: string, input: RunInput): Promise<RunOutput> | RunOutput;
}

/** The userspace VM. */
export const vmBackend: RunBackend = {
  name: "vm",
  run(obj, prog, input) {
    const runtime = new VmRuntime(input.cpu !== undefined ? { cpu: input.cpu } : {});
    const object = runtime.loadObject(obj);
    const program = object.program(prog);
    const r = program.testRun(
      { ...(input.dataIn ? { dataIn: input.dataIn } : {}), ...(input.ctxIn ? { ctxIn: input.ctxIn } : {}) },
      { repeat: input.repeat },
    );
    return {
      program: program.name,
      programType: program.type.name,
      retval: r.retval,
      retvalMeaning: program.type.describeReturn(r.retval),
      dataOut: r.dataOut,
      nsPerRun: r.nsPerRun,
      maps: dumpMaps(object),
    };
  },
};

/** Backends by --backend name. */
export const RUN_BACKENDS: Readonly<Record<string, () => Promise<RunBackend>>> = {
  vm: async () => vmBackend,
  kernel: async () => {
    const { kernelRunBackend } = await import("../../kernel/run-backend.js");
    const { builtinProgramType } = await import("../../vm/program-types/index.js");
    return kernelRunBackend({
      describeReturn: (t, r) => builtinProgramType(t)?.describeReturn(r) ?? String(r),
    });
  },
};

const hex = (b: Uint8Array | undefined): string =>
  b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex") : "";
const str = (s: string): string => JSON.stringify(s);

/**
 * The --json line: exactly `{"retval": <u32>, "dataOut": "<hex>", "nsPerRun": <number>,
 * "maps": {"<map>": [{"key": "<hex>", "value": "<hex>" | ["<hex per CPU>", ...]}, ...]}}`.
 */
export function formatRunJson(out: RunOutput): string {
  const maps = Object.entries(out.maps)
    .map(([name, entries]) => {
      const items = entries.map((e) => {
        const value = Array.isArray(e.value) ? `[${e.value.map(str).join(", ")}]` : str(e.value as string);
        return `{"key": ${str(e.key)}, "value": ${value}}`;
      });
      return `${str(name)}: [${items.join(", ")}]`;
    })
    .join(", ");
  const ns = Number.isFinite(out.nsPerRun) ? Math.round(out.nsPerRun * 10) / 10 : 0;
  return `{"retval": ${out.retval >>> 0}, "dataOut": ${str(hex(out.dataOut))}, "nsPerRun": ${ns}, "maps": {${maps}}}`;
}

const MAX_SHOWN = 16;

/** Human output: the verdict, the time, the data out and the maps' non-zero entries. */
export function formatRunText(out: RunOutput, input: RunInput): string {
  const lines = [`${out.program} (${out.programType}): ${out.retvalMeaning}`];
  lines.push(`${formatNs(out.nsPerRun)} per run${input.repeat > 1 ? ` (${input.repeat} runs)` : ""}`);
  if (out.dataOut) {
    const same = input.dataIn && hex(input.dataIn) === hex(out.dataOut);
    const shown = hex(out.dataOut.subarray(0, 64));
    lines.push(
      `data out: ${out.dataOut.length} bytes${same ? " (unchanged)" : ""}: ${shown}${out.dataOut.length > 64 ? "…" : ""}`,
    );
  }
  for (const [name, entries] of Object.entries(out.maps)) {
    lines.push(`map ${name}: ${entries.length} ${entries.length === 1 ? "entry" : "entries"}`);
    for (const e of entries.slice(0, MAX_SHOWN)) {
      const value = Array.isArray(e.value) ? e.value.map((v, cpu) => `cpu${cpu}=${v}`).join(" ") : e.value;
      lines.push(`  ${e.key === "" ? "-" : e.key}: ${value}`);
    }
    if (entries.length > MAX_SHOWN) lines.push(`  … ${entries.length - MAX_SHOWN} more`);
  }
  return lines.join("\n");
}

const formatNs = (ns: number): string =>
  ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(0)} ns`;

async function readInput(option: string, path: string | undefined): Promise<Uint8Array | undefined> {
  if (path === undefined) return undefined;
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(
      `${option} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
}

/** The program to run: --prog, or the only one. */
function programName(obj: ObjectSpec, prog: string | undefined): string {
  if (prog !== undefined) return prog;
  if (obj.programs.length === 1) return obj.programs[0]!.name;
  const names = obj.programs.map((p) => `${p.name} (${p.section})`).join(", ");
  throw new UsageError(
    obj.programs.length === 0
      ? "the object has no programs"
      : `the object has several programs, choose one with --prog: ${names}`,
  );
}

async function runPcap(
  obj: ObjectSpec,
  prog: string,
  input: string,
  output: string | undefined,
  cpu: number | undefined,
  io: CommandIO,
): Promise<number> {
  const bytes = await readInput("--pcap", input);
  const capture = readCapture(bytes!, input);
  const runtime = new VmRuntime(cpu !== undefined ? { cpu } : {});
  const object = runtime.loadObject(obj);
  const program = object.program(prog);
  const r = runCapture(program, capture);
  const n = capture.packets.length;
  io.out(`${program.name} (${program.type.name}): ${n} packet${n === 1 ? "" : "s"} from ${input}`);
  for (const [verdict, count] of r.verdicts) io.out(`  ${verdict.padEnd(16)} ${count}`);
  if (n > 0)
    io.out(
      `${formatNs(r.totalNs / n)} per packet (${Math.round((n * 1e9) / Math.max(r.totalNs, 1))} packets/s)`,
    );
  for (const [name, entries] of Object.entries(dumpMaps(object)))
    io.out(`map ${name}: ${entries.length} ${entries.length === 1 ? "entry" : "entries"}`);
  if (output !== undefined) {
    const file = output.endsWith(".pcapng")
      ? writePcapng(r.passed)
      : writePcap(r.passed, { nanosecond: true });
    await writeFile(output, file);
    io.out(`wrote ${r.passed.length} packet${r.passed.length === 1 ? "" : "s"} to ${output}`);
  }
  return 0;
}

const run: Command = {
  usage:
    "run OBJ [--prog NAME] [--backend vm|kernel] [--data-in FILE] [--ctx-in FILE] [--repeat N] [--cpu N] [--json]\n" +
    "       run OBJ [--prog NAME] --pcap IN.pcap [--out OUT.pcap]\n" +
    "  NAME: function or section name (optional when the object has one program)",
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      prog: { type: "string" },
      backend: { type: "string" },
      "data-in": { type: "string" },
      "ctx-in": { type: "string" },
      repeat: { type: "string" },
      cpu: { type: "string" },
      json: { type: "boolean" },
      pcap: { type: "string" },
      out: { type: "string" },
    });
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError("missing OBJ");
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const repeat = integerOption("repeat", values.repeat, 1);
    if (repeat < 1) throw new UsageError("--repeat must be at least 1");
    const cpu = values.cpu === undefined ? undefined : integerOption("cpu", values.cpu, 0);
    const backendName = values.backend ?? "vm";
    const makeBackend = RUN_BACKENDS[backendName];
    if (!makeBackend)
      throw new UsageError(
        `unknown backend '${backendName}' (available: ${Object.keys(RUN_BACKENDS).join(", ")})`,
      );
    if (values.out !== undefined && values.pcap === undefined) throw new UsageError("--out needs --pcap");
    const obj = loadObjectFile(file);
    const prog = programName(obj, values.prog);
    try {
      if (values.pcap !== undefined) {
        if (backendName !== "vm") throw new UsageError("--pcap runs on the vm backend");
        if (values["data-in"] !== undefined || values["ctx-in"] !== undefined)
          throw new UsageError("--pcap takes its packets from the capture: no --data-in or --ctx-in");
        return await runPcap(obj, prog, values.pcap, values.out, cpu, io);
      }
      const dataIn = await readInput("--data-in", values["data-in"]);
      const ctxIn = await readInput("--ctx-in", values["ctx-in"]);
      const input: RunInput = {
        repeat,
        ...(dataIn ? { dataIn } : {}),
        ...(ctxIn ? { ctxIn } : {}),
        ...(cpu !== undefined ? { cpu } : {}),
      };
      const out = await (await makeBackend()).run(obj, prog, input);
      io.out(values.json ? formatRunJson(out) : formatRunText(out, input));
      return 0;
    } catch (e) {
      if (e instanceof VmFault) {
        io.err(`tsbpf run: ${e.message}`);
        return 1;
      }
      if (e instanceof TsbpfError || e instanceof UsageError) throw e;
      throw e;
    }
  },
};
export default run;
