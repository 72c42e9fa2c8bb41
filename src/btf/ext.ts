/**
 * `.BTF.ext`: per ELF section, the function info (which BTF FUNC starts at which instruction),
 * line info (source file, line text, line and column per instruction) and CO-RE relocation
 * records (struct bpf_core_relo) that clang emits. Strings resolve through the .BTF string table.
 */
import { FormatError } from "../errors.js";
import type { Btf } from "./Btf.js";
import { BTF_MAGIC } from "./kinds.js";

/** bpf_core_relo_kind */
export enum CoreReloKind {
  FieldByteOffset = 0,
  FieldByteSize = 1,
  FieldExists = 2,
  FieldSigned = 3,
  FieldLShiftU64 = 4,
  FieldRShiftU64 = 5,
  TypeIdLocal = 6,
  TypeIdTarget = 7,
  TypeExists = 8,
  TypeSize = 9,
  EnumvalExists = 10,
  EnumvalValue = 11,
  TypeMatches = 12,
}

/** libbpf's names of the relocation kinds (core_relo_kind_str). */
export const CORE_RELO_KIND_NAMES: readonly string[] = [
  "byte_off",
  "byte_sz",
  "field_exists",
  "signed",
  "lshift_u64",
  "rshift_u64",
  "local_type_id",
  "target_type_id",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
];

/** struct bpf_func_info: a BTF FUNC begins at an instruction. */
export interface FuncInfo {
  /** Byte offset of the instruction in its ELF section (as in the file; divide by 8 for a slot index). */
  readonly insnOff: number;
  /** The FUNC's type id in .BTF. */
  readonly typeId: number;
}

/** struct bpf_line_info: the source line of an instruction. */
export interface LineInfo {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  readonly fileName: string;
  /** The text of the source line. */
  readonly line: string;
  readonly lineNumber: number;
  readonly column: number;
  /** Offsets of fileName and line in the string table, as stored (the kernel wants them). */
  readonly fileNameOff: number;
  readonly lineOff: number;
}

/** struct bpf_core_relo: a CO-RE relocation of one instruction. */
export interface CoreRelo {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  /** The local (object) type id the access starts from. */
  readonly typeId: number;
  /** The access string, e.g. "0:1:3" (member/array indexes), or "0" for type and enum relocations. */
  readonly accessStr: string;
  readonly accessStrOff: number;
  readonly kind: CoreReloKind;
}

/** Parsed .BTF.ext: records per ELF section name. */
export interface BtfExt {
  readonly funcInfos: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfos: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreRelo[]>;
  /** Record sizes as stored (the kernel needs func_info_rec_size / line_info_rec_size). */
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly coreReloRecSize: number;
}

export interface ParseBtfExtOptions {
  /** File name used in error messages. */
  file?: string;
}

/** Minimum header: magic..line_info_len; core_relo_off/len follow when hdr_len allows. */
const EXT_HEADER_MIN = 24;
const EXT_HEADER_CORE = 32;

/** Parses a `.BTF.ext` section; `btf` is the object's `.BTF` (strings and type ids resolve in it). */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, options: ParseBtfExtOptions = {}): BtfExt {
  const file = options.file;
  const fail = (msg: string, off: number): never => {
    throw new FormatError(msg, file, off);
  };
  if (bytes.length < EXT_HEADER_MIN) fail(`truncated .BTF.ext header (${bytes.length} bytes)`, 0);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint16(0, true);
  const le =
    magic === BTF_MAGIC
      ? true
      : magic === 0x9feb
        ? false
        : fail(`bad .BTF.ext magic 0x${magic.toString(16)}`, 0);
  const u32 = (off: number): number => v.getUint32(off, le);
  if (v.getUint8(2) !== 1) fail(`unsupported .BTF.ext version ${v.getUint8(2)}`, 2);
  const hdrLen = u32(4);
  if (hdrLen < EXT_HEADER_MIN || hdrLen > bytes.length) fail(`bad .BTF.ext header length ${hdrLen}`, 4);

  const string = (off: number, at: number): string => {
    try {
      return btf.string(off);
    } catch {
      return fail(`string offset ${off} out of range of the .BTF string table`, at);
    }
  };

  /** Walks one info block: rec_size, then {sec_name_off, num_info, records} until its end. */
  function infoBlock<T>(
    headerAt: number,
    what: string,
    minRec: number,
    record: (at: number) => T,
  ): { map: Map<string, T[]>; recSize: number } {
    const map = new Map<string, T[]>();
    const off = u32(headerAt);
    const len = u32(headerAt + 4);
    if (len === 0) return { map, recSize: minRec };
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length) fail(`${what} [${start}, ${end}) past the end (${bytes.length} bytes)`, headerAt);
    if (len < 4) fail(`${what} too short`, start);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0)
      fail(`${what} record size ${recSize} (want >= ${minRec}, multiple of 4)`, start);
    for (let at = start + 4; at < end;) {
      if (at + 8 > end) fail(`truncated ${what} section header`, at);
      const secName = string(u32(at), at);
      const n = u32(at + 4);
      const recEnd = at + 8 + n * recSize;
      if (recEnd > end)
        fail(`${what} of '${secName}': ${n} records of ${recSize} bytes past the end of the block`, at + 4);
      const list = map.get(secName) ?? [];
      for (let r = at + 8; r < recEnd; r += recSize) list.push(record(r));
      map.set(secName, list);
      at = recEnd;
    }
    return { map, recSize };
  }

  const typeId = (id: number, at: number): number =>
    id < btf.count ? id : fail(`type id ${id} out of range`, at);

  const funcs = infoBlock<FuncInfo>(8, "func_info", 8, (at) => ({
    insnOff: u32(at),
    typeId: typeId(u32(at + 4), at + 4),
  }));
  const lines = infoBlock<LineInfo>(16, "line_info", 16, (at) => {
    const fileNameOff = u32(at + 4);
    const lineOff = u32(at + 8);
    const lineCol = u32(at + 12);
    return {
      insnOff: u32(at),
      fileName: string(fileNameOff, at + 4),
      line: string(lineOff, at + 8),
      lineNumber: lineCol >>> 10,
      column: lineCol & 0x3ff,
      fileNameOff,
      lineOff,
    };
  });
  const relos =
    hdrLen >= EXT_HEADER_CORE
      ? infoBlock<CoreRelo>(24, "core_relo", 16, (at) => {
          const kind = u32(at + 12);
          if (kind >= CORE_RELO_KIND_NAMES.length) fail(`unknown CO-RE relocation kind ${kind}`, at + 12);
          const accessStrOff = u32(at + 8);
          return {
            insnOff: u32(at),
            typeId: typeId(u32(at + 4), at + 4),
            accessStr: string(accessStrOff, at + 8),
            accessStrOff,
            kind: kind as CoreReloKind,
          };
        })
      : { map: new Map<string, CoreRelo[]>(), recSize: 16 };
  return {
    funcInfos: funcs.map,
    lineInfos: lines.map,
    coreRelos: relos.map,
    funcInfoRecSize: funcs.recSize,
    lineInfoRecSize: lines.recSize,
    coreReloRecSize: relos.recSize,
  };
}
