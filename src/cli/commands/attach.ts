import {
  ATTACH_KINDS,
  ATTACH_KIND_ALIASES,
  attachProgram,
  isAttachKind,
  type AttachKind,
  type AttachOptions,
} from "../../kernel/attach.js";
import { KernelMap } from "../../kernel/map.js";
import { integerOption, parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { Lifetime } from "../lifetime.js";
import { attachOptionsFrom, linkText, reportKernelError } from "./load.js";
import { openProgram } from "./prog.js";

/**
 * `tsbpf attach PROG KIND [TARGET]`: attaches a program already in the kernel (by id, pinned
 * path or name) to a hook: `tsbpf attach 123 xdp lo --xdp-mode generic`,
 * `tsbpf attach /sys/fs/bpf/x tracepoint syscalls/sys_enter_getpid`. With --pin PATH the link
 * is pinned and outlives the command; without, the command holds it until interrupted.
 */

/** Kind aliases that also set an option (bpftool's net attach types). */
const ALIAS_OPTIONS: Readonly<Record<string, AttachOptions>> = {
  tcx_ingress: { direction: "ingress" },
  tcx_egress: { direction: "egress" },
  xdpgeneric: { xdpMode: "generic" },
  xdpdrv: { xdpMode: "native" },
  xdpoffload: { xdpMode: "offload" },
};

const OPTIONS = {
  pin: { type: "string" },
  "xdp-mode": { type: "string" },
  direction: { type: "string" },
  "attach-type": { type: "string" },
  freq: { type: "string" },
  period: { type: "string" },
  pid: { type: "string" },
  map: { type: "string" },
  cookie: { type: "string" },
  json: { type: "boolean", short: "j" },
} as const;

/** The kinds and what their TARGET is, for the usage text and errors. */
export function kindsHelp(): string {
  return Object.entries(ATTACH_KINDS)
    .map(([k, d]) => `  ${k.padEnd(16)} ${d.target ?? "(no TARGET: chosen when the program was loaded)"}`)
    .join("\n");
}

/** Splits PROG (1 word, or `id N` / `name NAME` / `pinned PATH`) from KIND and TARGET. */
function splitPositionals(words: readonly string[]): { prog: string[]; kind: string; target: string } {
  const n = words[0] === "id" || words[0] === "name" || words[0] === "pinned" ? 2 : 1;
  const prog = words.slice(0, n);
  const [kind, target, ...extra] = words.slice(n);
  if (prog.length < n || prog.length === 0)
    throw new UsageError("missing PROG (an id, a pinned path or a name)");
  if (kind === undefined) throw new UsageError(`missing KIND (${Object.keys(ATTACH_KINDS).join(", ")})`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return { prog, kind, target: target ?? "" };
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const { prog: progWords, kind: kindWord, target } = splitPositionals(positionals);
  const kind: AttachKind | undefined = isAttachKind(kindWord) ? kindWord : ATTACH_KIND_ALIASES[kindWord];
  if (kind === undefined)
    throw new UsageError(`unknown KIND '${kindWord}' (${Object.keys(ATTACH_KINDS).join(", ")})`);
  const row = ATTACH_KINDS[kind];
  if (row.target === undefined && target !== "")
    throw new UsageError(
      `${kind} takes no TARGET: the target of a ${kind} program is chosen when it is loaded`,
    );
  if (row.target !== undefined && !row.optionalTarget && target === "")
    throw new UsageError(`${kind} needs a TARGET (${row.target})`);
  const options: AttachOptions = {
    ...ALIAS_OPTIONS[kindWord],
    ...attachOptionsFrom({ ...values, "cgroup-attach-type": values["attach-type"] }),
    ...(values.cookie !== undefined ? { cookie: BigInt(integerOption("cookie", values.cookie, 0)) } : {}),
  };
  const json = values.json === true;

  using life = new Lifetime();
  try {
    const prog = life.use(openProgram(progWords));
    if (values.map !== undefined) {
      const word = values.map;
      const map = life.use(
        /^\d+$/.test(word)
          ? KernelMap.fromId(Number(word))
          : word.startsWith("/")
            ? KernelMap.fromPin(word)
            : KernelMap.fromName(word),
      );
      options.iter = { map };
    }
    const attachment = attachProgram(prog, kind, target, options);
    const link = life.use(attachment.link);
    const what = `${attachment.description} (prog '${prog.name}' id ${prog.id}, ${linkText(link)})`;
    if (values.pin !== undefined) {
      link.pin(values.pin);
      if (json)
        io.out(JSON.stringify({ event: "attached", kind, target, prog_id: prog.id, pinned: values.pin }));
      else io.out(`attached ${what}, pinned at ${values.pin}`);
      return 0;
    }
    if (json) io.out(JSON.stringify({ event: "attached", kind, target, prog_id: prog.id }));
    else {
      io.out(`attached ${what}`);
      io.err("running until interrupted (Ctrl-C)");
    }
    await life.untilInterrupted();
    life.close();
    if (json) io.out(JSON.stringify({ event: "detached", kind, target, prog_id: prog.id }));
    else io.out(`detached ${attachment.description}`);
    return 0;
  } catch (e) {
    return reportKernelError(e, "attach", io);
  }
}

const command: Command = {
  usage:
    "attach PROG KIND [TARGET] [--pin PATH] [--xdp-mode auto|generic|native|offload] [--direction ingress|egress] " +
    "[--attach-type CGROUP_HOOK] [--freq HZ|--period N] [--pid PID] [--map MAP] [--cookie N] [--json]\n" +
    `  PROG: ID | PINNED_PATH | NAME | id ID | name NAME | pinned PATH\n  KIND TARGET:\n${kindsHelp()}`,
  run,
};
export default command;
