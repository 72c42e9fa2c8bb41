import { NotSupportedError, TsbpfError } from "../../errors.js";
import { attachProgram } from "../../kernel/attach.js";
import { probeKprobeEvents, probeKprobePmu } from "../../kernel/features/index.js";
import { noKprobesError, type ProbeMode } from "../../kernel/links/index.js";
import { KernelCollection } from "../../kernel/object/index.js";
import { ProgramType } from "../../object/index.js";
import { parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { Lifetime } from "../lifetime.js";
import { PinRollback, linkText, newPinPaths, readObjectSpec, reportKernelError } from "./load.js";

/**
 * `tsbpf kprobe OBJ FUNC`: the kprobe loader of the guide (load_kp_bpf). The object holds one
 * program, in section "prog" (or its only program), loaded as BPF_PROG_TYPE_KPROBE, with legacy
 * maps (struct bpf_elf_map in SEC("maps")) pinned like tc does: PIN_OBJECT_NS under /sys/fs/bpf,
 * PIN_GLOBAL_NS under /sys/fs/bpf/tc/globals, reused when already pinned. The program is
 * attached to kernel function FUNC through the kprobe PMU, or by appending
 * "p:kprobes/EVENT FUNC" to tracefs kprobe_events then perf_event_open + PERF_EVENT_IOC_ENABLE
 * + PERF_EVENT_IOC_SET_BPF. It runs until interrupted, then removes its kprobe event and
 * unloads the program; pinned maps stay.
 */

const OPTIONS = {
  ret: { type: "boolean" },
  "pin-root": { type: "string" },
  "probe-mode": { type: "string" },
  json: { type: "boolean", short: "j" },
} as const;

const MODES: readonly ProbeMode[] = ["auto", "pmu", "tracefs"];

/** Throws the no-kprobes error unless the kernel has a way to make kprobes in `mode`. */
export function checkKprobes(mode: ProbeMode): void {
  const pmu = mode === "tracefs" ? undefined : probeKprobePmu();
  if (pmu?.supported) return;
  if (mode === "pmu") throw noKprobesError(pmu!.detail);
  let events: string;
  try {
    const r = probeKprobeEvents();
    if (r.supported) return;
    events = r.detail;
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
    events = `no tracefs (${e.message})`;
  }
  throw noKprobesError(pmu ? `${pmu.detail}; ${events}` : events);
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const [path, func, ...extra] = positionals;
  if (path === undefined) throw new UsageError("missing OBJ (an eBPF object with a 'prog' section)");
  if (func === undefined) throw new UsageError("missing FUNC (the kernel function to probe)");
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const mode = (values["probe-mode"] ?? "auto") as ProbeMode;
  if (!MODES.includes(mode)) throw new UsageError(`--probe-mode must be one of ${MODES.join(", ")}`);
  const pinRoot = values["pin-root"]?.replace(/\/+$/, "");
  const json = values.json === true;

  const spec = readObjectSpec(path, "kprobe", pinRoot);
  const prog =
    spec.programs.find((p) => p.section === "prog") ??
    (spec.programs.length === 1 ? spec.programs[0] : undefined);
  if (!prog)
    throw new TsbpfError(
      `${path}: no program in section 'prog' and ${spec.programs.length} programs (${spec.programs.map((p) => `${p.name} in ${p.section}`).join(", ") || "none"})`,
    );
  if (prog.type !== ProgramType.KPROBE)
    throw new TsbpfError(
      `${path}: prog '${prog.name}' is a ${prog.typeName} program (section '${prog.section}'), not a kprobe program`,
    );
  // Before anything is created: a kernel without kprobes leaves no map, pin or program behind.
  checkKprobes(mode);

  using life = new Lifetime();
  const rollback = new PinRollback();
  for (const p of newPinPaths(spec, pinRoot)) rollback.add(p);
  let ok = false;
  life.defer(() => {
    if (!ok) rollback.undo();
  });
  try {
    const collection = life.use(
      KernelCollection.load(spec, {
        programs: [prog.name],
        ...(pinRoot !== undefined ? { pinPath: pinRoot } : {}),
      }),
    );
    const kprog = collection.program(prog.name);
    const attachment = attachProgram(
      kprog,
      values.ret ? "kretprobe" : "kprobe",
      func,
      { probeMode: mode },
      prog,
    );
    life.use(attachment.link);
    ok = true;
    const pins = [...collection.pins];
    if (json)
      io.out(
        JSON.stringify({
          event: "attached",
          kind: attachment.kind,
          target: func,
          prog: prog.name,
          prog_id: kprog.id,
          pinned_maps: Object.fromEntries(pins),
        }),
      );
    else {
      io.out(
        `attached ${attachment.description} (prog '${prog.name}' id ${kprog.id}, ${linkText(attachment.link)})`,
      );
      for (const [name, at] of pins) io.out(`map '${name}' pinned at ${at}`);
      io.err("running until interrupted (Ctrl-C)");
    }
    await life.untilInterrupted();
    life.close();
    if (json)
      io.out(JSON.stringify({ event: "detached", kind: attachment.kind, target: func, prog: prog.name }));
    else {
      io.out(`removed ${attachment.description}, unloaded prog '${prog.name}'`);
      for (const [name, at] of pins) io.out(`pinned map '${name}' stays at ${at}`);
    }
    return 0;
  } catch (e) {
    return reportKernelError(e, "kprobe", io);
  }
}

const command: Command = {
  usage: "kprobe OBJ FUNC[+OFFSET] [--ret] [--pin-root DIR] [--probe-mode auto|pmu|tracefs] [--json]",
  run,
};
export default command;
