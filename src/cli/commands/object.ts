/**
 * `tsbpf object OBJ`: what a compiled eBPF object contains (programs, maps, global data, BTF,
 * CO-RE relocations), as aligned tables like bpftool or as stable JSON.
 */
import { CORE_RELO_KIND_NAMES } from "../../btf/index.js";
import {
  loadObjectFile,
  programTypeFrom,
  type MapSpec,
  type ObjectSpec,
  type Pinning,
} from "../../object/index.js";
import { UsageError, type Command } from "../command.js";

interface ObjectArgs {
  readonly file: string;
  readonly json: boolean;
  readonly programType?: string;
}

function parseArgs(args: readonly string[]): ObjectArgs {
  let file: string | undefined;
  let json = false;
  let programType: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    if (flag === "--json" || flag === "-j") json = true;
    else if (flag === "--type" || flag === "-t") {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a program type`);
      if (programTypeFrom(v) === undefined) throw new UsageError(`unknown program type '${v}'`);
      programType = v;
    } else if (arg.startsWith("-")) throw new UsageError(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (file === undefined) throw new UsageError("missing OBJ");
  return { file, json, ...(programType !== undefined ? { programType } : {}) };
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const pinText = (p: Pinning): string => (p.kind === "none" ? "-" : `${p.kind} ${p.path}`);

/** CO-RE relocations of every program, with the local type's name. */
function coreRelocations(spec: ObjectSpec) {
  return spec.programs.flatMap((p) =>
    p.coreRelos.map((r) => {
      let typeName = "";
      try {
        const t = spec.btf?.typeById(r.typeId);
        typeName = t ? `${t.kind} ${t.name || "(anon)"}` : "";
      } catch {
        typeName = "?";
      }
      return {
        program: p.name,
        insn: r.insnOff / 8,
        kind: CORE_RELO_KIND_NAMES[r.kind] ?? String(r.kind),
        typeId: r.typeId,
        type: typeName,
        access: r.accessStr,
      };
    }),
  );
}

function mapJson(m: MapSpec): Record<string, unknown> {
  return {
    name: m.name,
    type: m.typeName,
    typeId: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    numaNode: m.numaNode,
    pinning: m.pinning.kind === "none" ? null : { kind: m.pinning.kind, path: m.pinning.path },
    source: m.source,
    section: m.section,
    frozen: m.frozen,
    innerMap: m.innerMap ? mapJson(m.innerMap) : null,
    initialValues: m.initialValues,
  };
}

/** The stable JSON shape of `tsbpf object --json`. */
export function objectJson(spec: ObjectSpec): Record<string, unknown> {
  return {
    file: spec.file ?? null,
    name: spec.name,
    license: spec.license,
    kernelVersion: spec.kernelVersion ?? null,
    btf: spec.btf ? { types: spec.btf.count - 1, ext: spec.btfExt !== undefined } : null,
    programs: spec.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.typeName,
      typeId: p.type,
      attachType: p.attachTypeName ?? null,
      attachTo: p.attachTo,
      sleepable: p.sleepable,
      instructions: p.instructions.length,
      functions: p.functions.map((f) => f.name),
      sourceFile: p.sourceFile ?? null,
    })),
    maps: spec.maps.map(mapJson),
    globals: spec.globals.map((g) => ({
      section: g.section,
      map: g.map,
      size: g.size,
      readonly: g.readonly,
      variables: g.variables.map((v) => ({ name: v.name, offset: v.offset, size: v.size })),
    })),
    kconfig: spec.kconfig.map((k) => ({
      name: k.name,
      kind: k.kind,
      offset: k.offset,
      size: k.size,
      weak: k.weak,
    })),
    ksyms: spec.ksyms.map((k) => ({ name: k.name, kind: k.kind, weak: k.weak })),
    coreRelocations: coreRelocations(spec),
  };
}

/** Columns padded to their widest cell, two spaces apart, trailing spaces trimmed. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function humanText(spec: ObjectSpec): string {
  const parts: string[] = [];
  const btf = spec.btf
    ? `BTF ${spec.btf.count - 1} types${spec.btfExt ? " + .BTF.ext" : ", no .BTF.ext"}`
    : "no BTF";
  const version = spec.kernelVersion === undefined ? "" : `, version ${hex(spec.kernelVersion)}`;
  parts.push(`${spec.file ?? spec.name}: license "${spec.license}"${version}, ${btf}`);
  parts.push(
    `\nprograms (${spec.programs.length})\n` +
      table(
        ["NAME", "SECTION", "TYPE", "ATTACH", "INSNS", "FUNCS", "SOURCE"],
        spec.programs.map((p) => [
          p.name,
          p.section,
          p.typeName + (p.sleepable ? " (sleepable)" : ""),
          p.attachTypeName ?? "-",
          String(p.instructions.length),
          String(p.functions.length),
          p.sourceFile ?? "-",
        ]),
      ),
  );
  if (spec.maps.length > 0) {
    const rows: string[][] = [];
    for (const m of spec.maps) {
      const row = (x: MapSpec, name: string): string[] => [
        name,
        x.typeName,
        String(x.keySize),
        String(x.valueSize),
        String(x.maxEntries),
        hex(x.flags),
        pinText(x.pinning),
        x.source,
      ];
      rows.push(row(m, m.name));
      if (m.innerMap) rows.push(row(m.innerMap, `  inner: ${m.innerMap.name}`));
      for (const v of m.initialValues)
        rows.push([`  [${v.index}] = ${"program" in v ? `prog ${v.program}` : `map ${v.map}`}`]);
    }
    parts.push(
      `\nmaps (${spec.maps.length})\n` +
        table(["NAME", "TYPE", "KEY", "VALUE", "MAX", "FLAGS", "PINNING", "FROM"], rows),
    );
  }
  if (spec.globals.length > 0)
    parts.push(
      `\nglobals (${spec.globals.length})\n` +
        table(
          ["SECTION", "MAP", "SIZE", "ACCESS", "VARIABLES"],
          spec.globals.map((g) => [
            g.section,
            g.map,
            String(g.size),
            g.readonly ? "ro" : "rw",
            g.variables.map((v) => v.name).join(" ") || "-",
          ]),
        ),
    );
  if (spec.kconfig.length > 0 || spec.ksyms.length > 0)
    parts.push(
      `\nexterns (${spec.kconfig.length + spec.ksyms.length})\n` +
        table(
          ["NAME", "KIND", "WHERE"],
          [
            ...spec.kconfig.map((k) => [
              k.name,
              `kconfig ${k.kind}${k.weak ? " weak" : ""}`,
              `.kconfig+${k.offset}`,
            ]),
            ...spec.ksyms.map((k) => [k.name, `ksym ${k.kind}${k.weak ? " weak" : ""}`, "kernel"]),
          ],
        ),
    );
  const relos = coreRelocations(spec);
  if (relos.length > 0)
    parts.push(
      `\nCO-RE relocations (${relos.length})\n` +
        table(
          ["PROGRAM", "INSN", "KIND", "TYPE", "ACCESS"],
          relos.map((r) => [r.program, String(r.insn), r.kind, `[${r.typeId}] ${r.type}`, r.access]),
        ),
    );
  return parts.join("\n");
}

const command: Command = {
  usage: "object OBJ [--json] [--type PROG_TYPE]",
  async run(args, io) {
    const { file, json, programType } = parseArgs(args);
    const spec = loadObjectFile(file, programType !== undefined ? { programType } : {});
    io.out(json ? JSON.stringify(objectJson(spec), null, 2) : humanText(spec));
    return 0;
  },
};

export default command;
