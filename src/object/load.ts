/**
 * loadObjectSpec: from the bytes of a clang-compiled eBPF object to an ObjectSpec. Pure: no
 * file system, no kernel. Passes: ELF and BTF, maps (.maps / maps), global data, externs,
 * code sections and their relocations, then one linked program per entry function.
 */
import { parseBtf, parseBtfExt, type Btf, type BtfExt } from "../btf/index.js";
import { ElfFile, EM_BPF, ET_REL, STT_FILE } from "../elf/index.js";
import { FormatError } from "../errors.js";
import { datasecLayouts } from "./btf-fixup.js";
import { collectCode, relocateCode, type CodeSection, type FunctionDef } from "./code.js";
import { objectError, sectionError, type LoadContext } from "./context.js";
import { collectExterns, type KconfigValues } from "./externs.js";
import { collectGlobals, kconfigMap } from "./globals.js";
import { linkProgram, type RawReference } from "./link.js";
import { collectMaps, type MutableMap } from "./maps.js";
import { matchSection } from "./sections.js";
import type { InitialValue, InstructionReference, MapSpec, ObjectSpec, ProgramSpec } from "./spec.js";
import { attachTypeName, ProgramType, programTypeFrom, programTypeName } from "./types.js";

export interface LoadObjectOptions {
  /** File name for messages and the object name. */
  readonly file?: string;
  /** Object name (prefix of global data map names); default: the file's base name up to its first '.'. */
  readonly name?: string;
  /**
   * Type of programs whose section the table does not know, and of the legacy "prog"
   * section (kprobe when not given): a libbpf name ("kprobe") or a number.
   */
  readonly programType?: ProgramType | string;
  /** Kernel configuration for `.kconfig` externs; a function is called only when the object has some. */
  readonly kconfig?: KconfigValues | (() => KconfigValues);
  /** Directory for LIBBPF_PIN_BY_NAME maps (libbpf's pin_root_path), default /sys/fs/bpf. */
  readonly pinRoot?: string;
}

/** libbpf's object name: the base name of the file up to its first '.'. */
export function objectNameOf(file: string | undefined): string {
  if (file === undefined) return "object";
  const base = file.slice(file.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  return (dot < 0 ? base : base.slice(0, dot)) || "object";
}

/** Parses and links an eBPF ELF object. Throws FormatError (or another TsbpfError) on bad input. */
export function loadObjectSpec(bytes: Uint8Array, options: LoadObjectOptions = {}): ObjectSpec {
  const file = options.file;
  const elf = ElfFile.parse(bytes, file);
  if (elf.machine !== EM_BPF)
    throw new FormatError(`not a BPF object (e_machine ${elf.machine}, want ${EM_BPF})`, file, 18);
  if (elf.type !== ET_REL) throw new FormatError(`not a relocatable object (e_type ${elf.type})`, file, 16);

  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  const btfSec = elf.section(".BTF");
  if (btfSec && btfSec.size > 0)
    btf = parseBtf(btfSec.data, { file: file === undefined ? ".BTF" : `${file}(.BTF)` });
  const extSec = elf.section(".BTF.ext");
  if (btf && extSec && extSec.size > 0)
    btfExt = parseBtfExt(extSec.data, btf, { file: file === undefined ? ".BTF.ext" : `${file}(.BTF.ext)` });

  const ctx: LoadContext = { elf, file, btf, btfExt, objectName: options.name ?? objectNameOf(file) };
  const license = readLicense(ctx);
  const kernelVersion = readVersion(ctx);

  const userMaps = collectMaps(ctx, { pinRoot: options.pinRoot });
  const globals = collectGlobals(ctx);
  const externs = collectExterns(ctx, options.kconfig);
  const kconfig = externs.kconfigData
    ? kconfigMap(ctx, externs.kconfigData, externs.kconfigDatasecId)
    : undefined;
  const maps: MutableMap[] = [...userMaps.maps, ...globals.maps, ...(kconfig ? [kconfig] : [])];
  const seen = new Set<string>();
  for (const m of maps) {
    if (seen.has(m.name)) throw objectError(ctx, `two maps are named '${m.name}'`);
    seen.add(m.name);
  }

  const code = collectCode(ctx);
  const mapSections = new Set<number>();
  for (const name of [".maps", "maps"]) {
    const s = elf.section(name);
    if (s) mapSections.add(s.index);
  }
  relocateCode(ctx, code, {
    mapsByLocation: userMaps.byLocation,
    mapSections,
    dataMaps: globals.bySection,
    kconfigMap: kconfig,
    externs,
  });

  const programType = options.programType === undefined ? undefined : programTypeFrom(options.programType);
  if (options.programType !== undefined && programType === undefined)
    throw new FormatError(`unknown program type '${options.programType}'`, file, undefined);
  const entries = programEntries(code);
  const mapIndex = new Map<MutableMap, number>(maps.map((m, i) => [m, i]));
  const programs = entries.map((fn) => buildProgram(ctx, fn, code, programType, license, mapIndex));

  for (const slot of userMaps.pendingProgramSlots) {
    const target = entries.find(
      (fn) => fn.section.section.index === slot.symbol.sectionIndex && fn.start * 8 === slot.symbol.value,
    );
    if (!target)
      throw sectionError(
        ctx,
        slot.section,
        slot.at,
        `map '${slot.map.name}': '${slot.symbol.name}' is not a program`,
      );
    const value: InitialValue = { index: slot.index, program: target.name };
    slot.map.initialValues = [...slot.map.initialValues, value];
  }
  for (const m of maps) m.initialValues = [...m.initialValues].sort((a, b) => a.index - b.index);

  return {
    file,
    name: ctx.objectName,
    license,
    kernelVersion,
    programs,
    maps: maps as MapSpec[],
    globals: globals.globals,
    kconfig: externs.kconfig,
    ksyms: externs.ksyms,
    btf,
    btfExt,
    datasecs: datasecLayouts(ctx, externs.kconfig),
  };
}

/** Entry functions: the non-static functions of every executable section but .text. */
function programEntries(code: ReadonlyMap<number, CodeSection>): FunctionDef[] {
  const out: FunctionDef[] = [];
  for (const c of code.values()) {
    if (c.section.name === ".text") continue;
    for (const fn of c.functions) if (fn.linkage === "global") out.push(fn);
  }
  return out;
}

function buildProgram(
  ctx: LoadContext,
  entry: FunctionDef,
  code: ReadonlyMap<number, CodeSection>,
  givenType: ProgramType | undefined,
  license: string,
  mapIndex: ReadonlyMap<MutableMap, number>,
): ProgramSpec {
  const section = entry.section.section.name;
  const match = matchSection(section);
  const useGiven = givenType !== undefined && (match === undefined || match.def.flags.includes("legacy"));
  const def = useGiven ? undefined : match?.def;
  const type = useGiven ? givenType : (def?.programType ?? ProgramType.UNSPEC);
  const attachType = def?.attachType;
  const linked = linkProgram(ctx, entry, code);
  return {
    name: entry.name,
    section,
    type,
    typeName: programTypeName(type),
    attachType,
    attachTypeName: attachType === undefined ? undefined : attachTypeName(attachType),
    attachTo: match?.attachTo ?? "",
    sectionPattern: def?.pattern,
    flags: def?.flags ?? [],
    sleepable: def?.flags.includes("sleepable") ?? false,
    autoAttach: def?.autoAttach,
    instructions: linked.instructions,
    references: linked.references.map((r) => publicReference(r, mapIndex)),
    functions: linked.functions,
    sourceFile: linked.lineInfo[0]?.fileName ?? ctx.elf.symbols.find((s) => s.type === STT_FILE)?.name,
    funcInfo: linked.funcInfo,
    lineInfo: linked.lineInfo,
    coreRelos: linked.coreRelos,
    license,
  };
}

function publicReference(r: RawReference, mapIndex: ReadonlyMap<MutableMap, number>): InstructionReference {
  switch (r.kind) {
    case "map":
      return { index: r.index, kind: "map", map: r.map.name, mapIndex: mapIndex.get(r.map)! };
    case "map-value":
      return {
        index: r.index,
        kind: "map-value",
        map: r.map.name,
        mapIndex: mapIndex.get(r.map)!,
        offset: r.offset,
      };
    default:
      return r;
  }
}

function readLicense(ctx: LoadContext): string {
  const s = ctx.elf.section("license");
  if (!s) return "";
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : end));
}

function readVersion(ctx: LoadContext): number | undefined {
  const s = ctx.elf.section("version");
  if (!s) return undefined;
  if (s.data.length !== 4) throw sectionError(ctx, s, 0, `version section is ${s.data.length} bytes, want 4`);
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
}
