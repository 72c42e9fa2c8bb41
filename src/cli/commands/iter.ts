import { TsbpfError } from "../../errors.js";
import { attachProgram } from "../../kernel/attach.js";
import type { IterLink } from "../../kernel/links/index.js";
import { KernelMap } from "../../kernel/map.js";
import { KernelCollection } from "../../kernel/object/index.js";
import { parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";
import { Lifetime } from "../lifetime.js";
import { readObjectSpec, reportKernelError } from "./load.js";

/**
 * `tsbpf iter OBJ [--prog NAME] [--map MAP]`: loads an iterator program (SEC("iter/task"),
 * "iter/tcp", "iter/ksym", "iter/bpf_map", "iter/bpf_map_elem"…), creates one iterator, prints
 * what the program wrote (like `bpftool iter pin` then `cat`), and unloads everything.
 */

/** Iterator targets that walk one map's elements: they need --map. */
const MAP_TARGETS: ReadonlySet<string> = new Set(["bpf_map_elem", "bpf_sk_storage_map", "sockmap"]);

const OPTIONS = {
  prog: { type: "string" },
  map: { type: "string" },
  json: { type: "boolean", short: "j" },
} as const;

async function run(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  const [path, ...extra] = positionals;
  if (path === undefined) throw new UsageError("missing OBJ (an eBPF object file with an iter/ program)");
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const spec = readObjectSpec(path);
  const iters = spec.programs.filter((p) => p.autoAttach === "iter");
  if (iters.length === 0)
    throw new TsbpfError(
      `${path}: no iterator program (SEC("iter/…")); programs: ${spec.programs.map((p) => `${p.name} (${p.section})`).join(", ") || "none"}`,
    );
  let prog = iters[0]!;
  if (values.prog !== undefined) {
    const found = iters.find((p) => p.name === values.prog);
    if (!found)
      throw new UsageError(
        `no iterator program '${values.prog}' (iterators: ${iters.map((p) => p.name).join(", ")})`,
      );
    prog = found;
  } else if (iters.length > 1)
    throw new UsageError(
      `${path} has ${iters.length} iterators: choose one with --prog (${iters.map((p) => p.name).join(", ")})`,
    );
  if (MAP_TARGETS.has(prog.attachTo) && values.map === undefined)
    throw new UsageError(`iter/${prog.attachTo} walks one map's elements: give --map MAP`);

  using life = new Lifetime();
  try {
    const collection = life.use(KernelCollection.load(spec, { programs: [prog.name] }));
    let map: KernelMap | undefined;
    if (values.map !== undefined) {
      const word = values.map;
      map =
        collection.maps.get(word) ??
        life.use(
          /^\d+$/.test(word)
            ? KernelMap.fromId(Number(word))
            : word.startsWith("/")
              ? KernelMap.fromPin(word)
              : KernelMap.fromName(word),
        );
    }
    const attachment = attachProgram(
      collection.program(prog.name),
      "iter",
      prog.attachTo,
      map ? { iter: { map } } : {},
      prog,
    );
    const link = life.use(attachment.link) as IterLink;
    const text = link.readText();
    if (values.json)
      io.out(
        JSON.stringify({
          prog: prog.name,
          iter: prog.attachTo,
          bytes: Buffer.byteLength(text),
          lines: text.split("\n").filter((l, i, all) => l !== "" || i < all.length - 1),
        }),
      );
    else if (text !== "") io.out(text);
    return 0;
  } catch (e) {
    return reportKernelError(e, "iter", io);
  }
}

const command: Command = {
  usage: "iter OBJ [--prog NAME] [--map MAP] [--json]   MAP: a map of OBJ, or an id, pinned path or name",
  run,
};
export default command;
