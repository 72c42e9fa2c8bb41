/**
 * Map definitions in their three ELF styles:
 * - BTF-defined maps in `.maps` (libbpf): each VAR of the `.maps` DATASEC is a struct whose
 *   members encode the attributes (`__uint(x, N)` = `int (*x)[N]`, `__type(x, T)` = `T *x`,
 *   `__array(values, T)` = `T *values[]`); `.values = {...}` initialisers are R_BPF_64_ABS64
 *   relocations in `.maps`.
 * - `struct bpf_map_def` (5 x u32) in the legacy `maps` section (samples/bpf, libbpf < 1.0).
 * - iproute2's `struct bpf_elf_map` (9 x u32, with pinning and map-in-map ids) in `maps`.
 */
import { resolveTypedefs, sizeof, skipModifiers, typeError } from "../btf/index.js";
import type { BtfType, Struct } from "../btf/index.js";
import type { ElfSection, ElfSymbol } from "../elf/index.js";
import { R_BPF_64_ABS64, SHT_NOBITS, STT_FUNC, STT_SECTION } from "../elf/index.js";
import { NotSupportedError } from "../errors.js";
import { datasecOf, sectionError, type LoadContext } from "./context.js";
import type { InitialValue, MapSource, MapSpec, Pinning } from "./spec.js";
import { MapType, mapTypeName } from "./types.js";

export type MutableMap = { -readonly [K in keyof MapSpec]: MapSpec[K] };

/** Default bpffs root for LIBBPF_PIN_BY_NAME and iproute2's object namespace. */
export const BPFFS_ROOT = "/sys/fs/bpf";
/** iproute2's PIN_GLOBAL_NS directory. */
export const TC_GLOBALS = "/sys/fs/bpf/tc/globals";

/** A `.values` relocation waiting for the programs to be known (prog arrays). */
export interface PendingSlot {
  readonly map: MutableMap;
  readonly index: number;
  readonly symbol: ElfSymbol;
  readonly section: ElfSection;
  readonly at: number;
}

export interface CollectedMaps {
  readonly maps: MutableMap[];
  /** `${sectionIndex}:${offset}` of a map definition -> the map. */
  readonly byLocation: Map<string, MutableMap>;
  readonly pendingProgramSlots: PendingSlot[];
}

export function newMap(
  fields: Partial<MutableMap> & Pick<MapSpec, "name" | "type" | "section" | "source">,
): MutableMap {
  const { name, type, ...rest } = fields;
  return {
    name,
    type,
    typeName: mapTypeName(type),
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    mapExtra: 0n,
    pinning: { kind: "none" },
    innerMap: undefined,
    initialValues: [],
    contents: undefined,
    frozen: false,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
    ...rest,
  };
}

export const locationKey = (sectionIndex: number, offset: number): string => `${sectionIndex}:${offset}`;

/** Collects the maps of `.maps` and `maps`. */
export function collectMaps(ctx: LoadContext, options: { pinRoot?: string | undefined }): CollectedMaps {
  const out: CollectedMaps = { maps: [], byLocation: new Map(), pendingProgramSlots: [] };
  const btfMaps = ctx.elf.section(".maps");
  if (btfMaps) collectBtfMaps(ctx, btfMaps, out, options.pinRoot ?? BPFFS_ROOT);
  const legacy = ctx.elf.section("maps");
  if (legacy) collectLegacyMaps(ctx, legacy, out);
  return out;
}

// ---------------------------------------------------------------- BTF-defined maps

interface ParsedDef {
  map: MutableMap;
  /** Byte offset of the `values` member, when there is one. */
  valuesOffset: number | undefined;
}

function collectBtfMaps(ctx: LoadContext, section: ElfSection, out: CollectedMaps, pinRoot: string): void {
  const datasec = datasecOf(ctx.btf, ".maps");
  if (!datasec)
    throw sectionError(ctx, section, 0, "BTF-defined maps need the object's BTF (.BTF with a .maps DATASEC)");
  const defs: { def: ParsedDef; symbol: ElfSymbol; size: number }[] = [];
  for (const vsi of datasec.vars) {
    const v = vsi.type;
    if (v.kind !== "var") throw typeError(datasec, `entry of kind ${v.kind} is not a VAR`);
    const symbol = ctx.elf.symbols.find((s) => s.sectionIndex === section.index && s.name === v.name);
    if (!symbol) throw sectionError(ctx, section, 0, `map '${v.name}': no ELF symbol in .maps`);
    // With `.values = {...}` the variable is larger than its struct (a flexible array member).
    const size = Math.max(vsi.size, symbol.size, sizeof(v.type));
    if (symbol.value + size > section.size)
      throw sectionError(
        ctx,
        section,
        symbol.value,
        `map '${v.name}' (${size} bytes) extends past the section`,
      );
    const def = parseBtfMapDef(v.name, v.type, true, pinRoot);
    defs.push({ def, symbol, size });
    out.maps.push(def.map);
    out.byLocation.set(locationKey(section.index, symbol.value), def.map);
  }
  // `.values = { [i] = &x }`: 8-byte pointers inside the `values` member.
  for (const rel of ctx.elf.relocationsFor(section)) {
    const at = rel.offset;
    if (rel.type !== R_BPF_64_ABS64)
      throw sectionError(
        ctx,
        section,
        at,
        `relocation type ${rel.type} in .maps (only R_BPF_64_ABS64 is allowed)`,
      );
    const owner = defs.find((d) => at >= d.symbol.value && at < d.symbol.value + d.size);
    if (!owner) throw sectionError(ctx, section, at, "relocation outside every map definition");
    const map = owner.def.map;
    const base = owner.def.valuesOffset;
    if (base === undefined)
      throw sectionError(ctx, section, at, `map '${map.name}': relocation but no 'values' member`);
    const moff = at - owner.symbol.value - base;
    if (moff < 0 || moff % 8 !== 0)
      throw sectionError(ctx, section, at, `map '${map.name}': misaligned relocation in 'values'`);
    const index = moff / 8;
    if (map.type === MapType.PROG_ARRAY) {
      if (rel.symbol.type !== STT_FUNC)
        throw sectionError(
          ctx,
          section,
          at,
          `map '${map.name}': slot ${index} must point to a program, not '${rel.symbol.name}'`,
        );
      out.pendingProgramSlots.push({ map, index, symbol: rel.symbol, section, at });
    } else {
      if (rel.symbol.sectionIndex !== section.index || rel.symbol.type === STT_SECTION)
        throw sectionError(
          ctx,
          section,
          at,
          `map '${map.name}': slot ${index} must point to a map in .maps, not '${rel.symbol.name}'`,
        );
      map.initialValues = [...map.initialValues, { index, map: rel.symbol.name }];
    }
    // For hash-of-maps the slot is the key, not bounded by max_entries.
    if (map.type !== MapType.HASH_OF_MAPS && index >= map.maxEntries)
      throw sectionError(
        ctx,
        section,
        at,
        `map '${map.name}': initial slot ${index} >= max_entries ${map.maxEntries}`,
      );
  }
}

/** libbpf's parse_btf_map_def: the attributes of one map definition struct. */
function parseBtfMapDef(name: string, varType: BtfType, outer: boolean, pinRoot: string): ParsedDef {
  const def = resolveTypedefs(varType);
  if (def.kind !== "struct")
    throw typeError(varType, `map '${name}': definition is a ${def.kind}, not a struct`);
  const map = newMap({ name, type: MapType.UNSPEC, section: ".maps", source: outer ? "btf" : "inner" });
  let valuesOffset: number | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let pinning = 0;
  for (const m of def.members) {
    const where = (msg: string): Error => typeError(def, `map '${name}': member '${m.name}': ${msg}`);
    switch (m.name) {
      case "type":
        map.type = uintAttr(def, name, m.name, m.type);
        break;
      case "max_entries":
        map.maxEntries = uintAttr(def, name, m.name, m.type);
        break;
      case "map_flags":
        map.flags = uintAttr(def, name, m.name, m.type);
        break;
      case "numa_node":
        map.numaNode = uintAttr(def, name, m.name, m.type);
        break;
      case "map_extra":
        map.mapExtra = BigInt(uintAttr(def, name, m.name, m.type));
        break;
      case "pinning":
        pinning = uintAttr(def, name, m.name, m.type);
        break;
      case "key_size":
      case "value_size": {
        const v = uintAttr(def, name, m.name, m.type);
        if (m.name === "key_size") keySize = checkSame(keySize, v, where);
        else valueSize = checkSame(valueSize, v, where);
        break;
      }
      case "key":
      case "value": {
        const ptr = skipModifiers(m.type);
        if (ptr.kind !== "ptr") throw where(`expected a pointer (__type), got ${ptr.kind}`);
        const size = sizeof(ptr.target);
        if (m.name === "key") {
          keySize = checkSame(keySize, size, where);
          map.btfKeyTypeId = ptr.targetId;
        } else {
          valueSize = checkSame(valueSize, size, where);
          map.btfValueTypeId = ptr.targetId;
        }
        break;
      }
      case "values": {
        const arr = skipModifiers(m.type);
        if (arr.kind !== "array" || arr.length !== 0) throw where("expected a flexible array (__array)");
        const ptr = skipModifiers(arr.element);
        if (ptr.kind !== "ptr") throw where("expected an array of pointers");
        const target = resolveTypedefs(ptr.target);
        valuesOffset = m.bitOffset / 8;
        if (target.kind === "struct") {
          if (!outer) throw where("nested map-in-map inner definitions are not supported");
          const inner = parseBtfMapDef(`${name}.inner`, target, false, pinRoot);
          if (inner.valuesOffset !== undefined) throw where("an inner map cannot have 'values'");
          map.innerMap = inner.map;
        } else if (target.kind !== "func_proto") {
          throw where(`values must point to a map definition or a function, not ${target.kind}`);
        }
        break;
      }
      default:
        // libbpf rejects unknown attributes of outer maps (strict mode) and ignores them in inner ones.
        if (outer) throw typeError(def, `map '${name}': unknown attribute '${m.name}'`);
    }
  }
  map.typeName = mapTypeName(map.type);
  if (keySize !== undefined) map.keySize = keySize;
  if (valueSize !== undefined) map.valueSize = valueSize;
  if (map.innerMap) {
    if (map.type !== MapType.ARRAY_OF_MAPS && map.type !== MapType.HASH_OF_MAPS)
      throw typeError(
        def,
        `map '${name}': an inner map definition needs a map-in-map type, not ${map.typeName}`,
      );
    // A map-in-map's value is the inner map's id.
    map.valueSize = 4;
  } else if (valuesOffset !== undefined) {
    if (map.type !== MapType.PROG_ARRAY)
      throw typeError(def, `map '${name}': function 'values' need a prog_array, not ${map.typeName}`);
    map.valueSize = 4;
  }
  if (pinning === 1) map.pinning = { kind: "by-name", path: `${pinRoot}/${name}` };
  else if (pinning !== 0)
    throw typeError(def, `map '${name}': pinning ${pinning} is not supported (0 or LIBBPF_PIN_BY_NAME)`);
  return { map, valuesOffset };
}

/** `__uint(x, N)`: a pointer to an array of N elements. */
function uintAttr(def: Struct, name: string, member: string, t: BtfType): number {
  const ptr = skipModifiers(t);
  if (ptr.kind !== "ptr")
    throw typeError(
      def,
      `map '${name}': attribute '${member}' is a ${ptr.kind}, expected __uint (a pointer)`,
    );
  const arr = skipModifiers(ptr.target);
  if (arr.kind !== "array")
    throw typeError(def, `map '${name}': attribute '${member}' points to a ${arr.kind}, expected an array`);
  return arr.length;
}

function checkSame(prev: number | undefined, v: number, where: (m: string) => Error): number {
  if (prev !== undefined && prev !== v) throw where(`size ${v} conflicts with ${prev}`);
  return v;
}

// ---------------------------------------------------------------- legacy `maps` section

/** struct bpf_map_def: type, key_size, value_size, max_entries, map_flags. */
const MAP_DEF_SIZE = 20;
/** iproute2 struct bpf_elf_map: the five above, then id, pinning, inner_id, inner_idx. */
const ELF_MAP_SIZE = 36;

function collectLegacyMaps(ctx: LoadContext, section: ElfSection, out: CollectedMaps): void {
  if (section.type === SHT_NOBITS)
    throw sectionError(ctx, section, 0, "legacy maps section has no data (SHT_NOBITS)");
  const symbols = ctx.elf.symbolsIn(section).filter((s) => s.type !== STT_SECTION && s.name !== "");
  if (symbols.length === 0) return;
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const elfMaps: { map: MutableMap; id: number; innerId: number; innerIdx: number; at: number }[] = [];
  for (const sym of symbols) {
    const size = sym.size || Math.floor(section.size / symbols.length);
    const at = sym.value;
    if (size < 4 || at + size > section.size)
      throw sectionError(
        ctx,
        section,
        at,
        `map '${sym.name}': definition of ${size} bytes does not fit the section`,
      );
    const u32 = (i: number): number => (i * 4 + 4 <= size ? view.getUint32(at + i * 4, true) : 0);
    const isElfMap = size === ELF_MAP_SIZE;
    if (!isElfMap && size > MAP_DEF_SIZE) {
      // libbpf accepts a larger bpf_map_def only when the bytes it does not know are zero.
      for (let i = MAP_DEF_SIZE; i < size; i++)
        if (section.data[at + i] !== 0)
          throw sectionError(
            ctx,
            section,
            at + i,
            `map '${sym.name}': ${size}-byte definition is neither bpf_map_def (20) nor bpf_elf_map (36)`,
          );
    }
    const source: MapSource = isElfMap ? "bpf_elf_map" : "bpf_map_def";
    const map = newMap({
      name: sym.name,
      type: u32(0),
      keySize: u32(1),
      valueSize: u32(2),
      maxEntries: u32(3),
      flags: u32(4),
      section: section.name,
      source,
    });
    if (isElfMap) {
      map.pinning = elfPinning(ctx, section, at, sym.name, u32(6));
      elfMaps.push({ map, id: u32(5), innerId: u32(7), innerIdx: u32(8), at });
    }
    out.maps.push(map);
    out.byLocation.set(locationKey(section.index, sym.value), map);
  }
  // iproute2 map-in-map: an outer map's inner_id names its template's id; a map whose inner_id
  // names a map-in-map's id goes into that map at slot inner_idx.
  for (const e of elfMaps) {
    if (e.innerId === 0) continue;
    const other = elfMaps.find((o) => o !== e && o.id === e.innerId);
    if (!other)
      throw sectionError(ctx, section, e.at + 28, `map '${e.map.name}': inner_id ${e.innerId} names no map`);
    if (e.map.type === MapType.ARRAY_OF_MAPS || e.map.type === MapType.HASH_OF_MAPS) {
      e.map.innerMap = { ...other.map, initialValues: [] };
    } else if (other.map.type === MapType.ARRAY_OF_MAPS || other.map.type === MapType.HASH_OF_MAPS) {
      const slot: InitialValue = { index: e.innerIdx, map: e.map.name };
      other.map.initialValues = [...other.map.initialValues, slot];
    }
  }
}

function elfPinning(ctx: LoadContext, section: ElfSection, at: number, name: string, value: number): Pinning {
  switch (value) {
    case 0:
      return { kind: "none" };
    case 1:
      return { kind: "object-ns", path: `${BPFFS_ROOT}/${name}` };
    case 2:
      return { kind: "global-ns", path: `${TC_GLOBALS}/${name}` };
    default:
      throw new NotSupportedError(
        "iproute2 custom pinning",
        `${ctx.file ?? "<object>"}: section ${section.name}+${at + 24}: map '${name}' pinning ${value} (only 0, 1 and 2)`,
      );
  }
}
