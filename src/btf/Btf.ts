/**
 * Parsing raw BTF (kernel BTF, module split BTF, an object's .BTF section) into a lazily
 * decoded type graph, the way cilium/ebpf does: one pass records where each type's record
 * starts and indexes names; a type is decoded on first use and cached.
 */
import { FormatError } from "../errors.js";
import {
  BTF_HEADER_LEN,
  BTF_MAGIC,
  BTF_MAX_TYPE,
  BTF_TYPE_LEN,
  BTF_VERSION,
  BtfKind,
  KIND_TABLE,
  LINKAGES,
  type TypeKind,
} from "./kinds.js";
import { StringTable } from "./strings.js";
import {
  ArrayType,
  Const,
  Datasec,
  DeclTag,
  Enum,
  Enum64,
  Float,
  Func,
  FuncProto,
  Fwd,
  Int,
  Member,
  Param,
  Pointer,
  Restrict,
  Struct,
  Typedef,
  TypeTag,
  Union,
  Var,
  VarSecinfo,
  Volatile,
  VOID,
  type BtfType,
  type DefinedType,
  type TypeOfKind,
  type TypeResolver,
} from "./types.js";

export interface ParseBtfOptions {
  /** The base of split BTF: module BTF in /sys/kernel/btf/<module> continues vmlinux's ids and strings. */
  base?: Btf;
  /** File name used in error messages. */
  file?: string;
}

/** Parses raw BTF bytes (header, type section, string section). Throws FormatError on bad input. */
export function parseBtf(bytes: Uint8Array, options: ParseBtfOptions = {}): Btf {
  return new Btf(bytes, options);
}

/** The decoded `struct btf_header`. */
export interface BtfHeader {
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

/** A parsed BTF blob: a graph of types addressed by id and by name. */
export class Btf implements TypeResolver {
  readonly base: Btf | undefined;
  readonly file: string | undefined;
  readonly header: BtfHeader;
  readonly strings: StringTable;
  /** Byte order of the blob (BTF is in the byte order of the target). */
  readonly littleEndian: boolean;
  /** First id of this blob's own types: 1, or the base's `count` for split BTF. */
  readonly firstId: number;
  /** Number of type ids, counting void and the base's types: valid ids are 0 … count-1 (libbpf's btf__type_cnt). */
  readonly count: number;
  /** The raw blob. */
  readonly bytes: Uint8Array;

  private readonly view: DataView;
  /** Byte offset of each own type's record in `bytes`, indexed by id - firstId. */
  private readonly offsets: Uint32Array;
  private readonly cache: (BtfType | undefined)[];
  /** Name index: a chained hash table over the names' bytes (no strings are built while parsing). */
  private readonly nameIndex: NameIndex;

  constructor(bytes: Uint8Array, options: ParseBtfOptions = {}) {
    const file = options.file;
    this.file = file;
    this.base = options.base;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < BTF_HEADER_LEN) {
      throw new FormatError(`truncated BTF header (${bytes.length} bytes, need ${BTF_HEADER_LEN})`, file, 0);
    }
    const magic = this.view.getUint16(0, true);
    if (magic === BTF_MAGIC) this.littleEndian = true;
    else if (magic === 0x9feb) this.littleEndian = false;
    else
      throw new FormatError(`bad BTF magic 0x${magic.toString(16).padStart(4, "0")} (want 0xeb9f)`, file, 0);
    const h = (this.header = {
      version: this.view.getUint8(2),
      flags: this.view.getUint8(3),
      hdrLen: this.u32(4),
      typeOff: this.u32(8),
      typeLen: this.u32(12),
      strOff: this.u32(16),
      strLen: this.u32(20),
    });
    if (h.version !== BTF_VERSION) throw new FormatError(`unsupported BTF version ${h.version}`, file, 2);
    if (h.hdrLen < BTF_HEADER_LEN || h.hdrLen > bytes.length) {
      throw new FormatError(`bad BTF header length ${h.hdrLen} (blob is ${bytes.length} bytes)`, file, 4);
    }
    const typeStart = h.hdrLen + h.typeOff;
    const typeEnd = typeStart + h.typeLen;
    const strStart = h.hdrLen + h.strOff;
    const strEnd = strStart + h.strLen;
    if (typeEnd > bytes.length) {
      throw new FormatError(
        `type section [${typeStart}, ${typeEnd}) past the end (${bytes.length} bytes)`,
        file,
        8,
      );
    }
    if (strEnd > bytes.length) {
      throw new FormatError(
        `string section [${strStart}, ${strEnd}) past the end (${bytes.length} bytes)`,
        file,
        16,
      );
    }
    if (typeStart < strEnd && strStart < typeEnd && h.typeLen > 0 && h.strLen > 0) {
      throw new FormatError("type and string sections overlap", file, 8);
    }
    const strBytes = bytes.subarray(strStart, strEnd);
    if (strBytes.length > 0 && strBytes[strBytes.length - 1] !== 0) {
      throw new FormatError("string section does not end with NUL", file, strEnd - 1);
    }
    if (!this.base && strBytes.length > 0 && strBytes[0] !== 0) {
      throw new FormatError("string section does not start with an empty string", file, strStart);
    }
    this.strings = new StringTable(strBytes, this.base?.strings, file, strStart);
    this.firstId = this.base ? this.base.count : 1;

    // First pass: record offsets, check each record fits, index names.
    let offsets = new Uint32Array(Math.min(Math.ceil(h.typeLen / BTF_TYPE_LEN), BTF_MAX_TYPE + 1));
    let n = 0;
    const strLen = this.strings.length;
    for (let off = typeStart; off < typeEnd;) {
      if (off + BTF_TYPE_LEN > typeEnd) throw new FormatError("truncated type record", file, off);
      const info = this.u32(off + 4);
      const kind = (info >>> 24) & 0x1f;
      const row = KIND_TABLE[kind];
      if (row === undefined || kind === BtfKind.Unknown) {
        throw new FormatError(`unknown BTF kind ${kind} (type id ${this.firstId + n})`, file, off + 4);
      }
      const size = BTF_TYPE_LEN + row.fixed + (info & 0xffff) * row.perVlen;
      if (off + size > typeEnd) {
        throw new FormatError(
          `${row.upper} record of ${size} bytes past the end of the type section`,
          file,
          off,
        );
      }
      if (this.firstId + n > BTF_MAX_TYPE)
        throw new FormatError(`more than ${BTF_MAX_TYPE} types`, file, off);
      const nameOff = this.u32(off);
      if (nameOff >= strLen && nameOff !== 0) {
        throw new FormatError(
          `name offset ${nameOff} of type id ${this.firstId + n} out of range`,
          file,
          off,
        );
      }
      offsets[n++] = off;
      off += size;
    }
    if (n < offsets.length) offsets = offsets.slice(0, n);
    this.offsets = offsets;
    this.count = this.firstId + n;
    this.cache = new Array<BtfType | undefined>(n);
    this.nameIndex = new NameIndex(n);
    for (let i = 0; i < n; i++) {
      const nameOff = this.u32(offsets[i]!);
      if (nameOff !== 0) this.nameIndex.add(i, this.hashAt(nameOff));
    }
  }

  /** FNV-1a of the NUL-terminated bytes at a string offset (the offset was checked). */
  private hashAt(nameOff: number): number {
    const { bytes, at } = this.strings.locate(nameOff)!;
    let h = 0x811c9dc5;
    for (let i = at; bytes[i] !== 0; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
    return h >>> 0;
  }

  /** True when the string at `nameOff` is exactly `name` (UTF-8 bytes). */
  private nameEquals(nameOff: number, name: Uint8Array): boolean {
    const loc = this.strings.locate(nameOff);
    if (!loc) return false;
    const { bytes, at } = loc;
    for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name[i]) return false;
    return bytes[at + name.length] === 0;
  }

  private u32(off: number): number {
    return this.view.getUint32(off, this.littleEndian);
  }

  /** The type with this id (decoded on first use). Throws FormatError for an id out of range. */
  typeById(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.firstId) {
      if (this.base && id > 0) return this.base.typeById(id);
    } else if (id < this.count) {
      const i = id - this.firstId;
      return this.cache[i] ?? (this.cache[i] = this.decode(id, this.offsets[i]!));
    }
    throw new FormatError(`type id ${id} out of range (${this.count} types)`, this.file, undefined);
  }

  /** Byte offset of a type's record in its blob (for messages), or undefined for void and base types. */
  offsetOf(id: number): number | undefined {
    return id >= this.firstId && id < this.count ? this.offsets[id - this.firstId] : undefined;
  }

  /** The kind of a type without decoding it. */
  kindOf(id: number): TypeKind {
    if (id === 0) return "void";
    const off = this.offsetOf(id);
    if (off === undefined) return this.typeById(id).kind;
    return KIND_TABLE[(this.u32(off + 4) >>> 24) & 0x1f]!.kind;
  }

  /** Ids of all types with this name (base types first for split BTF). */
  idsByName(name: string): number[] {
    const ids: number[] = [];
    if (name !== "") {
      const key = UTF8.encode(name);
      if (!key.includes(0)) {
        let h = 0x811c9dc5;
        for (const b of key) h = Math.imul(h ^ b, 16777619);
        for (let i = this.nameIndex.first(h >>> 0); i >= 0; i = this.nameIndex.next(i)) {
          if (this.nameEquals(this.u32(this.offsets[i]!), key)) ids.push(this.firstId + i);
        }
        ids.sort((a, b) => a - b);
      }
    }
    return this.base ? [...this.base.idsByName(name), ...ids] : ids;
  }

  /** All types with this name, base types first. */
  typesByName(name: string): BtfType[] {
    return this.idsByName(name).map((id) => this.typeById(id));
  }

  /** The first type with this name (and kind, if given), or undefined. */
  typeByName<K extends TypeKind>(name: string, kind: K): TypeOfKind<K> | undefined;
  typeByName(name: string): BtfType | undefined;
  typeByName(name: string, kind?: TypeKind): BtfType | undefined {
    for (const id of this.idsByName(name)) {
      if (kind === undefined || this.kindOf(id) === kind) return this.typeById(id);
    }
    return undefined;
  }

  /** This blob's own types in id order (for split BTF, not the base's). */
  *types(): IterableIterator<DefinedType> {
    for (let id = this.firstId; id < this.count; id++) yield this.typeById(id) as DefinedType;
  }

  /** The string at an offset of the string table (the base's offsets included). */
  string(offset: number): string {
    return this.strings.get(offset);
  }

  private decode(id: number, off: number): BtfType {
    const info = this.u32(off + 4);
    const kind = (info >>> 24) & 0x1f;
    const rec: RawRecord = {
      btf: this,
      id,
      off,
      name: this.nameAt(this.u32(off), off),
      vlen: info & 0xffff,
      kindFlag: info >>> 31 === 1,
      sizeOrType: this.u32(off + 8),
    };
    return DECODERS[kind]!(rec);
  }

  /** @internal reads a u32 of the blob */
  readU32(off: number): number {
    return this.u32(off);
  }
  /** @internal reads an s32 of the blob */
  readS32(off: number): number {
    return this.view.getInt32(off, this.littleEndian);
  }
  /** @internal a string, with the record offset named on error */
  nameAt(nameOff: number, recordOff: number): string {
    try {
      return this.strings.get(nameOff);
    } catch {
      throw new FormatError(`string offset ${nameOff} out of range`, this.file, recordOff);
    }
  }
  /** @internal checks that a referenced id exists */
  ref(id: number, at: number): number {
    if (id >= this.count) {
      throw new FormatError(`reference to type id ${id} out of range (${this.count} types)`, this.file, at);
    }
    return id;
  }
}

interface RawRecord {
  btf: Btf;
  id: number;
  /** Offset of the btf_type record. */
  off: number;
  name: string;
  vlen: number;
  kindFlag: boolean;
  sizeOrType: number;
}

const DATA = BTF_TYPE_LEN;

function linkage(value: number, what: string, r: RawRecord, at: number): "static" | "global" | "extern" {
  const l = LINKAGES[value];
  if (l === undefined)
    throw new FormatError(`${what} '${r.name}' has unknown linkage ${value}`, r.btf.file, at);
  return l;
}

function refType(r: RawRecord): number {
  return r.btf.ref(r.sizeOrType, r.off + 8);
}

/** One decoder per BTF kind, indexed by BTF_KIND_* (the first pass rejected unknown kinds). */
const DECODERS: readonly ((r: RawRecord) => BtfType)[] = [
  () => VOID,
  (r) => {
    const v = r.btf.readU32(r.off + DATA);
    return new Int(
      r.btf,
      r.id,
      r.name,
      r.kindFlag,
      r.sizeOrType,
      (v >>> 24) & 0x0f,
      (v >>> 16) & 0xff,
      v & 0xff,
    );
  },
  (r) => new Pointer(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => {
    const b = r.btf;
    const at = r.off + DATA;
    return new ArrayType(
      b,
      r.id,
      r.name,
      r.kindFlag,
      b.ref(b.readU32(at), at),
      b.ref(b.readU32(at + 4), at + 4),
      b.readU32(at + 8),
    );
  },
  (r) => new Struct(r.btf, r.id, r.name, r.kindFlag, r.sizeOrType, members(r)),
  (r) => new Union(r.btf, r.id, r.name, r.kindFlag, r.sizeOrType, members(r)),
  (r) => {
    const b = r.btf;
    const values = new Array<{ name: string; value: number }>(r.vlen);
    for (let i = 0, at = r.off + DATA; i < r.vlen; i++, at += 8) {
      values[i] = {
        name: b.nameAt(b.readU32(at), at),
        value: r.kindFlag ? b.readS32(at + 4) : b.readU32(at + 4),
      };
    }
    return new Enum(b, r.id, r.name, r.kindFlag, r.sizeOrType, values);
  },
  (r) => new Fwd(r.btf, r.id, r.name, r.kindFlag),
  (r) => new Typedef(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => new Volatile(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => new Const(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => new Restrict(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => new Func(r.btf, r.id, r.name, r.kindFlag, refType(r), linkage(r.vlen, "FUNC", r, r.off + 4)),
  (r) => {
    const b = r.btf;
    const params = new Array<Param>(r.vlen);
    for (let i = 0, at = r.off + DATA; i < r.vlen; i++, at += 8) {
      params[i] = new Param(b, b.nameAt(b.readU32(at), at), b.ref(b.readU32(at + 4), at + 4));
    }
    return new FuncProto(b, r.id, r.name, r.kindFlag, refType(r), params);
  },
  (r) =>
    new Var(
      r.btf,
      r.id,
      r.name,
      r.kindFlag,
      refType(r),
      linkage(r.btf.readU32(r.off + DATA), "VAR", r, r.off + DATA),
    ),
  (r) => {
    const b = r.btf;
    const vars = new Array<VarSecinfo>(r.vlen);
    for (let i = 0, at = r.off + DATA; i < r.vlen; i++, at += 12) {
      vars[i] = new VarSecinfo(b, b.ref(b.readU32(at), at), b.readU32(at + 4), b.readU32(at + 8));
    }
    return new Datasec(b, r.id, r.name, r.kindFlag, r.sizeOrType, vars);
  },
  (r) => new Float(r.btf, r.id, r.name, r.kindFlag, r.sizeOrType),
  (r) => new DeclTag(r.btf, r.id, r.name, r.kindFlag, refType(r), r.btf.readS32(r.off + DATA)),
  (r) => new TypeTag(r.btf, r.id, r.name, r.kindFlag, refType(r)),
  (r) => {
    const b = r.btf;
    const values = new Array<{ name: string; value: bigint }>(r.vlen);
    for (let i = 0, at = r.off + DATA; i < r.vlen; i++, at += 12) {
      const raw = (BigInt(b.readU32(at + 8)) << 32n) | BigInt(b.readU32(at + 4));
      values[i] = { name: b.nameAt(b.readU32(at), at), value: r.kindFlag ? BigInt.asIntN(64, raw) : raw };
    }
    return new Enum64(b, r.id, r.name, r.kindFlag, r.sizeOrType, values);
  },
];

function members(r: RawRecord): Member[] {
  const b = r.btf;
  const out = new Array<Member>(r.vlen);
  for (let i = 0, at = r.off + DATA; i < r.vlen; i++, at += 12) {
    const offset = b.readU32(at + 8);
    out[i] = new Member(
      b,
      b.nameAt(b.readU32(at), at),
      b.ref(b.readU32(at + 4), at + 4),
      r.kindFlag ? offset & 0xffffff : offset,
      r.kindFlag ? offset >>> 24 : 0,
    );
  }
  return out;
}

const UTF8 = new TextEncoder();

/** Chained hash table in typed arrays: bucket heads and a next link per type index. */
class NameIndex {
  private readonly heads: Int32Array;
  private readonly links: Int32Array;
  private readonly mask: number;
  constructor(n: number) {
    let size = 16;
    while (size < n * 2) size *= 2;
    this.mask = size - 1;
    this.heads = new Int32Array(size).fill(-1);
    this.links = new Int32Array(n).fill(-1);
  }
  add(index: number, hash: number): void {
    const b = hash & this.mask;
    this.links[index] = this.heads[b]!;
    this.heads[b] = index;
  }
  /** First type index in the bucket of `hash` (-1 if none); callers compare names. */
  first(hash: number): number {
    return this.heads[hash & this.mask]!;
  }
  next(index: number): number {
    return this.links[index]!;
  }
}
