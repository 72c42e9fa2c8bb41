/**
 * Global data: each of `.data`, `.rodata`, `.bss` and their `.data.*` / `.rodata.*` / `.bss.*`
 * variants becomes a single-element array map whose value is the section (libbpf's internal
 * maps), named like libbpf: "<object name prefix><section>" within 15 characters.
 */
import type { ElfSection } from "../elf/index.js";
import { SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, STB_LOCAL, STT_OBJECT } from "../elf/index.js";
import { datasecOf, sectionError, type LoadContext } from "./context.js";
import { newMap, type MutableMap } from "./maps.js";
import type { GlobalSpec, GlobalVariable } from "./spec.js";
import { MapFlags, MapType } from "./types.js";

/** BPF_OBJ_NAME_LEN - 1: the longest name the kernel keeps. */
const MAX_NAME = 15;
/** The kernel's value_size is a u32. */
const MAX_VALUE_SIZE = 0xffffffff;

/** libbpf's internal_map_name: object-name prefix for .data/.rodata/.bss/.kconfig, none for custom ".x.y". */
export function internalMapName(objectName: string, section: string): string {
  let sfxLen = Math.max(7, section.length);
  if (sfxLen >= MAX_NAME + 1) sfxLen = MAX_NAME;
  const pfxLen = section.indexOf(".", 1) >= 0 ? 0 : Math.min(MAX_NAME - sfxLen, objectName.length);
  const name = (objectName.slice(0, pfxLen) + section.slice(0, sfxLen)).slice(0, MAX_NAME);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** The kind of global data section `s` is, or undefined. */
export function dataSectionKind(s: ElfSection): "data" | "rodata" | "bss" | undefined {
  const is = (base: string): boolean => s.name === base || s.name.startsWith(`${base}.`);
  if ((s.flags & SHF_EXECINSTR) !== 0) return undefined;
  if (s.type === SHT_PROGBITS && s.size > 0) {
    if (is(".data")) return "data";
    if (is(".rodata")) return "rodata";
  }
  if (s.type === SHT_NOBITS && s.size > 0 && is(".bss")) return "bss";
  return undefined;
}

export interface CollectedGlobals {
  readonly maps: MutableMap[];
  readonly globals: GlobalSpec[];
  /** ELF section index -> its map. */
  readonly bySection: Map<number, MutableMap>;
}

/** Collects the global data sections of the object. */
export function collectGlobals(ctx: LoadContext): CollectedGlobals {
  const out: CollectedGlobals = { maps: [], globals: [], bySection: new Map() };
  for (const s of ctx.elf.sections) {
    const kind = dataSectionKind(s);
    if (!kind) continue;
    if (s.size > MAX_VALUE_SIZE)
      throw sectionError(
        ctx,
        s,
        0,
        `global data section of ${s.size} bytes is larger than a map value can be`,
      );
    const datasec = datasecOf(ctx.btf, s.name);
    const btfVars = new Map<string, { typeId: number; linkage: "static" | "global" | "extern" }>();
    for (const vsi of datasec?.vars ?? []) {
      const v = vsi.type;
      if (v.kind === "var") btfVars.set(v.name, { typeId: v.typeId, linkage: v.linkage });
    }
    const variables: GlobalVariable[] = ctx.elf
      .symbolsIn(s)
      .filter((sym) => sym.type === STT_OBJECT && sym.name !== "")
      .map((sym) => ({
        name: sym.name,
        offset: sym.value,
        size: sym.size,
        btfTypeId: btfVars.get(sym.name)?.typeId ?? 0,
        linkage: sym.bind === STB_LOCAL ? "static" : "global",
      }));
    const readonly = kind === "rodata";
    // libbpf makes a data map mmapable when its DATASEC has a non-static variable.
    const mmapable = [...btfVars.values()].some((v) => v.linkage !== "static");
    const name = internalMapName(ctx.objectName, s.name);
    const map = newMap({
      name,
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: s.size,
      maxEntries: 1,
      flags: (readonly ? MapFlags.RDONLY_PROG : 0) | (mmapable ? MapFlags.MMAPABLE : 0),
      // .bss starts as zeros: no bytes to carry (it may be large).
      contents: kind === "bss" ? undefined : s.data.slice(),
      frozen: readonly,
      btfValueTypeId: datasec?.id ?? 0,
      section: s.name,
      source: "data",
    });
    out.maps.push(map);
    out.bySection.set(s.index, map);
    out.globals.push({
      section: s.name,
      map: name,
      size: s.size,
      readonly,
      variables,
      btfDatasecId: datasec?.id ?? 0,
    });
  }
  return out;
}

/** The `.kconfig` map (read-only for programs, frozen), named like libbpf's. */
export function kconfigMap(ctx: LoadContext, data: Uint8Array, datasecId: number): MutableMap {
  return newMap({
    name: internalMapName(ctx.objectName, ".kconfig"),
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: data.length,
    maxEntries: 1,
    flags: MapFlags.RDONLY_PROG | MapFlags.MMAPABLE,
    contents: data,
    frozen: true,
    btfValueTypeId: datasecId,
    section: ".kconfig",
    source: "kconfig",
  });
}
