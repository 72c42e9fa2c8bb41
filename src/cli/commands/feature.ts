import {
  ATTACH_PROBES,
  MAP_TYPES,
  PROGRAM_TYPES,
  probeBpfSyscall,
  probeMapType,
  probeProgramType,
  supportedHelpers,
  type FeatureResult,
} from "../../kernel/features/index.js";
import { mapTypeName, programTypeName } from "../../kernel/sys/index.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/**
 * `tsbpf feature [--json] [--no-helpers]`: what the running kernel supports, found by probing
 * (loading minimal programs, creating minimal maps, trying links), grouped like
 * `bpftool feature probe`.
 */

interface Report {
  syscall: FeatureResult;
  attach: FeatureResult[];
  program_types: Record<string, boolean>;
  map_types: Record<string, boolean>;
  helpers?: Record<string, string[]>;
  details: Record<string, string>;
}

function probeAll(withHelpers: boolean): Report {
  const details: Record<string, string> = {};
  const note = (r: FeatureResult): FeatureResult => ((details[r.name] = r.detail), r);
  const syscall = note(probeBpfSyscall());
  const attach = ATTACH_PROBES.map((p) => note(p()));
  const program_types = Object.fromEntries(
    PROGRAM_TYPES.map((t) => [programTypeName(t), note(probeProgramType(t)).supported]),
  );
  const map_types = Object.fromEntries(
    MAP_TYPES.map((t) => [mapTypeName(t), note(probeMapType(t)).supported]),
  );
  const report: Report = { syscall, attach, program_types, map_types, details };
  if (withHelpers) {
    report.helpers = Object.fromEntries(
      PROGRAM_TYPES.filter((t) => program_types[programTypeName(t)]).map((t) => [
        programTypeName(t),
        supportedHelpers(t).map((h) => h.name),
      ]),
    );
  }
  return report;
}

function text(r: Report): string {
  const out: string[] = [];
  const avail = (ok: boolean): string => (ok ? "is available" : "is NOT available");
  out.push("Scanning system call availability...", `bpf() syscall ${avail(r.syscall.supported)}`, "");
  out.push("Scanning attach features...");
  for (const a of r.attach) out.push(`${a.name} ${avail(a.supported)}${a.supported ? "" : ` (${a.detail})`}`);
  out.push("", "Scanning eBPF program types...");
  for (const [name, ok] of Object.entries(r.program_types)) {
    out.push(`eBPF program_type ${name} ${avail(ok)}`);
  }
  out.push("", "Scanning eBPF map types...");
  for (const [name, ok] of Object.entries(r.map_types)) out.push(`eBPF map_type ${name} ${avail(ok)}`);
  if (r.helpers) {
    out.push("", "Scanning eBPF helper functions...");
    for (const [type, helpers] of Object.entries(r.helpers)) {
      out.push(`eBPF helpers supported for program type ${type}:`);
      out.push(...helpers.map((h) => `\t- ${h}`));
    }
  }
  return out.join("\n");
}

async function run(args: string[], io: CommandIO): Promise<number> {
  let json = false;
  let pretty = false;
  let helpers = true;
  for (const a of args) {
    if (a === "--json" || a === "-j") json = true;
    else if (a === "--pretty" || a === "-p") json = pretty = true;
    else if (a === "--no-helpers") helpers = false;
    else if (a === "probe" || a === "kernel")
      continue; // bpftool's `feature probe kernel`
    else throw new UsageError(`unexpected argument '${a}'`);
  }
  const report = probeAll(helpers);
  if (json) {
    const attach = Object.fromEntries(report.attach.map((a) => [a.name, a.supported]));
    io.out(
      JSON.stringify({ ...report, syscall: report.syscall.supported, attach }, null, pretty ? 2 : undefined),
    );
  } else {
    io.out(text(report));
  }
  return 0;
}

const command: Command = {
  usage: "feature [probe] [--json|--pretty] [--no-helpers]",
  run,
};
export default command;
