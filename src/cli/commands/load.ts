import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { dirname } from "node:path";
import { TsbpfError } from "../../errors.js";
import {
  attachBySection,
  sectionAttachment,
  type AttachOptions,
  type Attachment,
} from "../../kernel/attach.js";
import { SyscallError, VerifierError } from "../../kernel/errors.js";
import { MultiLink, PerfEventLink, type Link } from "../../kernel/links/index.js";
import { KernelCollection, pinPathOf } from "../../kernel/object/index.js";
import { unpin } from "../../kernel/bpffs.js";
import { loadObjectSpec, readHostKconfig, type ObjectSpec } from "../../object/index.js";
import { integerOption, parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { Lifetime } from "../lifetime.js";

/**
 * `tsbpf load OBJ`: loads every program and map of an object into the kernel, like
 * `bpftool prog loadall`. Without --attach something must outlive the command, so a pin
 * directory is required (as bpftool requires PATH): --pin-progs DIR pins each program at
 * DIR/NAME, --pin-maps DIR pins each map at DIR/NAME (and is the root of maps the object
 * pins itself). With --attach every program is attached by its section name and the command
 * stays until SIGINT/SIGTERM, then detaches and closes everything; pins stay.
 */

/** Maps and programs named in a pin directory: bpffs refuses '.' in names (libbpf's sanitize_pin_path). */
export const pinName = (name: string): string => name.replace(/\./g, "_");

/** Reads and parses an object file for the kernel backend. */
export function readObjectSpec(path: string, programType?: string, pinRoot?: string): ObjectSpec {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      cause: e,
    });
  }
  return loadObjectSpec(bytes, {
    file: path,
    ...(programType !== undefined ? { programType } : {}),
    kconfig: () => readHostKconfig(),
    ...(pinRoot !== undefined ? { pinRoot } : {}),
  });
}

/** Pin paths the object's maps would get that do not exist yet: the pins a failed load must undo. */
export function newPinPaths(spec: ObjectSpec, pinRoot: string | undefined): string[] {
  return spec.maps
    .map((m) => pinPathOf(m, pinRoot))
    .filter((p): p is string => p !== undefined && !existsSync(p));
}

/**
 * Undoes what a failed run created: the pins, then the directories that did not exist before
 * (deepest first, only when empty).
 */
export class PinRollback {
  readonly #pins: string[] = [];
  readonly #dirs: string[] = [];

  /** Records `path` as created by this run, and its missing parent directories. */
  add(path: string): void {
    this.#pins.push(path);
    this.addDir(dirname(path));
  }

  /** Records the missing directories of `dir` and its parents. */
  addDir(dir: string): void {
    for (let d = dir; d !== "/" && d !== "." && !existsSync(d); d = dirname(d))
      if (!this.#dirs.includes(d)) this.#dirs.push(d);
  }

  /** Removes the recorded pins and now-empty directories. */
  undo(): void {
    for (const p of this.#pins) unpin(p);
    for (const d of [...this.#dirs].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: someone else uses it
      }
    }
  }
}

/** Kernel ids of the BPF links behind an attachment (none for PERF_EVENT_IOC_SET_BPF attachments). */
export function linkIds(link: Link): number[] {
  if (link instanceof MultiLink) return link.links.flatMap(linkIds);
  if (link instanceof PerfEventLink && !link.bpfLink) return [];
  try {
    return [link.info().id];
  } catch {
    return [];
  }
}

/** "link id 45", "link ids 45,46", or "perf event" for ioctl attachments. */
export function linkText(link: Link): string {
  const ids = linkIds(link);
  if (ids.length === 0) return link instanceof PerfEventLink ? "perf event" : "no link id";
  return `link id${ids.length > 1 ? "s" : ""} ${ids.join(",")}`;
}

/** Exit code of a kernel failure: a verifier rejection is bad input (2), other refusals runtime faults (1). */
export function reportKernelError(e: unknown, verb: string, io: CommandIO): number {
  if (e instanceof SyscallError && !(e instanceof VerifierError)) {
    io.err(`tsbpf ${verb}: ${e.message}`);
    return 1;
  }
  throw e;
}

const OPTIONS = {
  "pin-maps": { type: "string" },
  "pin-progs": { type: "string" },
  attach: { type: "boolean" },
  type: { type: "string" },
  iface: { type: "string" },
  "xdp-mode": { type: "string" },
  direction: { type: "string" },
  cgroup: { type: "string" },
  "cgroup-attach-type": { type: "string" },
  freq: { type: "string" },
  period: { type: "string" },
  pid: { type: "string" },
  json: { type: "boolean", short: "j" },
} as const;

const XDP_MODES = ["auto", "generic", "native", "offload"] as const;

/** AttachOptions from the options the attaching verbs share (--iface, --xdp-mode, --cgroup, --freq…). */
export function attachOptionsFrom(values: {
  iface?: string | undefined;
  "xdp-mode"?: string | undefined;
  direction?: string | undefined;
  cgroup?: string | undefined;
  "cgroup-attach-type"?: string | undefined;
  freq?: string | undefined;
  period?: string | undefined;
  pid?: string | undefined;
}): AttachOptions {
  const mode = values["xdp-mode"];
  if (mode !== undefined && !(XDP_MODES as readonly string[]).includes(mode))
    throw new UsageError(`--xdp-mode must be one of ${XDP_MODES.join(", ")}`);
  const dir = values.direction;
  if (dir !== undefined && dir !== "ingress" && dir !== "egress")
    throw new UsageError("--direction must be ingress or egress");
  if (values.freq !== undefined && values.period !== undefined)
    throw new UsageError("give --freq or --period, not both");
  return {
    ...(values.iface !== undefined ? { interface: values.iface } : {}),
    ...(values.cgroup !== undefined ? { cgroup: values.cgroup } : {}),
    ...(mode !== undefined ? { xdpMode: mode as (typeof XDP_MODES)[number] } : {}),
    ...(dir !== undefined ? { direction: dir } : {}),
    ...(values["cgroup-attach-type"] !== undefined ? { cgroupAttachType: values["cgroup-attach-type"] } : {}),
    ...(values.freq !== undefined ? { sampleFreq: integerOption("freq", values.freq, 0) } : {}),
    ...(values.period !== undefined ? { samplePeriod: integerOption("period", values.period, 0) } : {}),
    ...(values.pid !== undefined ? { pid: integerOption("pid", values.pid, 0) } : {}),
  };
}

/** The option a kind of hook needs that was not given, checked before anything is loaded. */
function missingOption(spec: ObjectSpec, o: AttachOptions): string | undefined {
  for (const p of spec.programs) {
    const where = sectionAttachment(p);
    const need =
      (where.kind === "xdp" || where.kind === "tcx" || where.kind === "netkit") && o.interface === undefined
        ? "--iface IF"
        : where.kind === "cgroup" && o.cgroup === undefined
          ? "--cgroup DIR"
          : where.kind === "perf_event" && o.sampleFreq === undefined && o.samplePeriod === undefined
            ? "--freq HZ or --period N"
            : undefined;
    if (need) return `prog '${p.name}' (${p.typeName}) attaches to ${where.kind}: give ${need}`;
  }
  return undefined;
}

interface Loaded {
  name: string;
  kind: "prog" | "map";
  id: number;
  type: string;
  pinned?: string;
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const [path, ...extra] = positionals;
  if (path === undefined) throw new UsageError("missing OBJ (an eBPF object file)");
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const pinMaps = values["pin-maps"]?.replace(/\/+$/, "");
  const pinProgs = values["pin-progs"]?.replace(/\/+$/, "");
  if (!values.attach && pinMaps === undefined && pinProgs === undefined)
    throw new UsageError(
      "nothing would outlive the command: give --pin-progs DIR and/or --pin-maps DIR (like bpftool prog loadall), or --attach",
    );
  const attachOptions = attachOptionsFrom(values);
  const json = values.json === true;
  const spec = readObjectSpec(path, values.type, pinMaps);
  if (values.attach) {
    const missing = missingOption(spec, attachOptions);
    if (missing) throw new UsageError(missing);
  }

  using life = new Lifetime();
  // Pins this run creates, removed again when the load or an attachment fails.
  const created = new PinRollback();
  for (const p of newPinPaths(spec, pinMaps)) created.add(p);
  if (pinProgs !== undefined) created.addDir(pinProgs);
  if (pinMaps !== undefined) created.addDir(pinMaps);
  let ok = false;
  life.defer(() => {
    if (!ok) created.undo();
  });
  try {
    const collection = life.use(
      KernelCollection.load(spec, pinMaps !== undefined ? { pinPath: pinMaps } : {}),
    );
    const loaded: Loaded[] = [];
    for (const [name, prog] of collection.programs) {
      const p: Loaded = {
        name,
        kind: "prog",
        id: prog.id,
        type: spec.programs.find((s) => s.name === name)!.typeName,
      };
      if (pinProgs !== undefined) {
        mkdirSync(pinProgs, { recursive: true });
        const at = `${pinProgs}/${pinName(name)}`;
        prog.pin(at);
        created.add(at);
        p.pinned = at;
      }
      loaded.push(p);
    }
    for (const [name, map] of collection.maps) {
      const m: Loaded = { name, kind: "map", id: map.info.id, type: map.info.typeName };
      const own = collection.pins.get(name);
      if (own !== undefined) m.pinned = own;
      else if (pinMaps !== undefined) {
        mkdirSync(pinMaps, { recursive: true });
        const at = `${pinMaps}/${pinName(name)}`;
        map.pin(at);
        created.add(at);
        m.pinned = at;
      }
      loaded.push(m);
    }

    if (!values.attach) {
      if (json) io.out(JSON.stringify({ object: path, loaded }));
      else for (const l of loaded) io.out(loadedText(l));
      ok = true;
      return 0;
    }

    const attached: { prog: string; attachment: Attachment }[] = [];
    for (const p of spec.programs) {
      const prog = collection.programs.get(p.name);
      if (!prog) continue;
      const where = sectionAttachment(p);
      if (where.kind === undefined) {
        if (json) io.out(JSON.stringify({ event: "skipped", prog: p.name, reason: where.reason }));
        else io.err(`not attached: prog '${p.name}' (${p.typeName}): ${where.reason}`);
        continue;
      }
      const attachment = attachBySection(prog, p, attachOptions);
      life.use(attachment.link);
      attached.push({ prog: p.name, attachment });
      if (json)
        io.out(
          JSON.stringify({
            event: "attached",
            kind: attachment.kind,
            target: attachment.target,
            prog: p.name,
            prog_id: prog.id,
            link_ids: linkIds(attachment.link),
          }),
        );
      else
        io.out(
          `attached ${attachment.description} (prog '${p.name}' id ${prog.id}, ${linkText(attachment.link)})`,
        );
    }
    if (attached.length === 0) throw new TsbpfError(`${path}: no program could be attached`);
    ok = true;
    if (!json) io.err("running until interrupted (Ctrl-C)");
    await life.untilInterrupted();
    const pinned = loaded.filter((l) => l.pinned !== undefined);
    life.close();
    if (json)
      io.out(
        JSON.stringify({
          event: "detached",
          links: attached.length,
          programs: collection.programs.size,
          maps: collection.maps.size,
          pinned: pinned.map((l) => l.pinned),
        }),
      );
    else {
      io.out(
        `detached ${attached.length} program${attached.length === 1 ? "" : "s"}, closed ${plural(collection.programs.size, "program")} and ${plural(collection.maps.size, "map")}`,
      );
      for (const l of pinned) io.out(`pinned ${l.kind} '${l.name}' stays at ${l.pinned}`);
    }
    return 0;
  } catch (e) {
    return reportKernelError(e, "load", io);
  }
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

function loadedText(l: Loaded): string {
  return `loaded ${l.kind} '${l.name}' (${l.type}, id ${l.id})${l.pinned !== undefined ? ` pinned at ${l.pinned}` : ""}`;
}

const command: Command = {
  usage:
    "load OBJ [--pin-progs DIR] [--pin-maps DIR] [--attach [--iface IF] [--xdp-mode auto|generic|native|offload] [--direction ingress|egress] [--cgroup DIR] [--freq HZ|--period N] [--pid PID]] [--type PROG_TYPE] [--json]",
  run,
};
export default command;
