/**
 * Writing raw BTF: the inverse of parseBtf. The kernel backend uses it to load an object's BTF
 * with BPF_BTF_LOAD after fixing DATASEC sizes and VAR offsets, as libbpf does.
 */
import { TsbpfError } from "../errors.js";
import type { Btf } from "./Btf.js";
import {
  BTF_HEADER_LEN,
  BTF_MAGIC,
  BTF_MAX_NAME_OFFSET,
  BTF_MAX_TYPE,
  BTF_TYPE_LEN,
  BTF_VERSION,
  KIND_NUMBER,
  KIND_TABLE,
  LINKAGES,
  type FuncLinkage,
  type VarLinkage,
} from "./kinds.js";

interface Named {
  readonly name?: string;
  /** Defaults to what the data imply (bitfields present, negative enum values). */
  readonly kindFlag?: boolean;
}

/**
 * The data of one type, as encodeBtf needs them. Decoded types (`BtfType`) are accepted as they
 * are, and so are copies like `{ ...datasec, size: 16 }`. References are type ids.
 */
export type EncodableType = Named &
  (
    | {
        readonly kind: "int";
        readonly size: number;
        readonly encoding: number;
        readonly bitOffset: number;
        readonly bits: number;
      }
    | {
        readonly kind: "ptr" | "typedef" | "volatile" | "const" | "restrict" | "type_tag";
        readonly targetId: number;
      }
    | {
        readonly kind: "array";
        readonly elementId: number;
        readonly indexId: number;
        readonly length: number;
      }
    | {
        readonly kind: "struct" | "union";
        readonly size: number;
        readonly members: readonly {
          readonly name: string;
          readonly typeId: number;
          readonly bitOffset: number;
          readonly bitfieldSize: number;
        }[];
      }
    | {
        readonly kind: "enum";
        readonly size: number;
        readonly values: readonly { readonly name: string; readonly value: number }[];
      }
    | {
        readonly kind: "enum64";
        readonly size: number;
        readonly values: readonly { readonly name: string; readonly value: bigint }[];
      }
    | { readonly kind: "fwd" }
    | { readonly kind: "func"; readonly protoId: number; readonly linkage: FuncLinkage }
    | {
        readonly kind: "func_proto";
        readonly returnId: number;
        readonly params: readonly { readonly name: string; readonly typeId: number }[];
      }
    | { readonly kind: "var"; readonly typeId: number; readonly linkage: VarLinkage }
    | {
        readonly kind: "datasec";
        readonly size: number;
        readonly vars: readonly { readonly typeId: number; readonly offset: number; readonly size: number }[];
      }
    | { readonly kind: "float"; readonly size: number }
    | { readonly kind: "decl_tag"; readonly targetId: number; readonly componentIdx: number }
  );

export interface EncodeBtfOptions {
  /** Encode split BTF on top of this base: ids continue at base.count, string offsets at its table's end. */
  base?: Btf;
  /** Byte order; little endian unless told otherwise. */
  littleEndian?: boolean;
}

/** Raised for types that cannot be represented in BTF (bad values, not bad input bytes). */
export class BtfEncodeError extends TsbpfError {
  override name = "BtfEncodeError";
}

/** Builds a deduplicated string section. */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>([["", 0]]);
  private readonly chunks: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly encoder = new TextEncoder();
  constructor(
    /** Offsets start after the base's table for split BTF. */
    readonly start = 0,
  ) {}
  /** The offset of `s`, adding it if new. */
  add(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const bytes = this.encoder.encode(s);
    if (bytes.includes(0)) throw new BtfEncodeError(`string contains NUL: ${JSON.stringify(s)}`);
    const off = this.start + this.size;
    this.chunks.push(bytes, new Uint8Array(1));
    this.size += bytes.length + 1;
    this.offsets.set(s, off);
    return off;
  }
  get length(): number {
    return this.size;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Encodes types in order (the i-th gets id firstId + i) into a raw BTF blob with its own string table. */
export function encodeBtf(types: Iterable<EncodableType>, options: EncodeBtfOptions = {}): Uint8Array {
  const le = options.littleEndian ?? true;
  const strings = new StringTableBuilder(options.base?.strings.length ?? 0);
  const firstId = options.base?.count ?? 1;
  const list = Array.from(types);
  if (firstId + list.length - 1 > BTF_MAX_TYPE) throw new BtfEncodeError(`more than ${BTF_MAX_TYPE} types`);
  let typeLen = 0;
  for (const t of list) {
    if (t.kind === ("void" as string))
      throw new BtfEncodeError("void (id 0) is implicit and cannot be encoded");
    const row = KIND_TABLE[KIND_NUMBER[t.kind]]!;
    typeLen += BTF_TYPE_LEN + row.fixed + vlenOf(t) * row.perVlen;
  }
  const typeBuf = new Uint8Array(typeLen);
  const v = new DataView(typeBuf.buffer);
  let at = 0;
  const u32 = (x: number): void => {
    v.setUint32(at, x >>> 0, le);
    at += 4;
  };
  const name = (s: string | undefined): number => {
    const off = strings.add(s ?? "");
    if (off > BTF_MAX_NAME_OFFSET)
      throw new BtfEncodeError(`string table larger than ${BTF_MAX_NAME_OFFSET} bytes`);
    return off;
  };
  list.forEach((t, i) => {
    const id = firstId + i;
    const vlen = vlenOf(t);
    if (vlen > 0xffff) throw new BtfEncodeError(`type [${id}] has ${vlen} entries (max 65535)`);
    const kflag = kindFlagOf(t);
    u32(name(t.name));
    u32(((kflag ? 1 : 0) << 31) | (KIND_NUMBER[t.kind] << 24) | vlen);
    switch (t.kind) {
      case "int":
        u32(t.size);
        u32(((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
        break;
      case "ptr":
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        u32(t.targetId);
        break;
      case "array":
        u32(0);
        u32(t.elementId);
        u32(t.indexId);
        u32(t.length);
        break;
      case "struct":
      case "union":
        u32(t.size);
        for (const m of t.members) {
          u32(name(m.name));
          u32(m.typeId);
          if (kflag) {
            if (m.bitOffset > 0xffffff || m.bitfieldSize > 0xff) {
              throw new BtfEncodeError(
                `type [${id}] member '${m.name}': bit offset or bitfield size too large`,
              );
            }
            u32((m.bitfieldSize << 24) | m.bitOffset);
          } else {
            if (m.bitfieldSize)
              throw new BtfEncodeError(`type [${id}] member '${m.name}': bitfield needs kindFlag`);
            u32(m.bitOffset);
          }
        }
        break;
      case "enum":
        u32(t.size);
        for (const e of t.values) {
          u32(name(e.name));
          u32(e.value);
        }
        break;
      case "enum64":
        u32(t.size);
        for (const e of t.values) {
          const raw = BigInt.asUintN(64, e.value);
          u32(name(e.name));
          u32(Number(raw & 0xffffffffn));
          u32(Number(raw >> 32n));
        }
        break;
      case "fwd":
        u32(0);
        break;
      case "func":
        u32(t.protoId);
        break;
      case "func_proto":
        u32(t.returnId);
        for (const p of t.params) {
          u32(name(p.name));
          u32(p.typeId);
        }
        break;
      case "var":
        u32(t.typeId);
        u32(LINKAGES.indexOf(t.linkage));
        break;
      case "datasec":
        u32(t.size);
        for (const s of t.vars) {
          u32(s.typeId);
          u32(s.offset);
          u32(s.size);
        }
        break;
      case "float":
        u32(t.size);
        break;
      case "decl_tag":
        u32(t.targetId);
        u32(t.componentIdx);
        break;
    }
  });
  const strBuf = strings.bytes();
  const out = new Uint8Array(BTF_HEADER_LEN + typeLen + strBuf.length);
  const h = new DataView(out.buffer);
  h.setUint16(0, BTF_MAGIC, le);
  h.setUint8(2, BTF_VERSION);
  h.setUint8(3, 0);
  h.setUint32(4, BTF_HEADER_LEN, le);
  h.setUint32(8, 0, le);
  h.setUint32(12, typeLen, le);
  h.setUint32(16, typeLen, le);
  h.setUint32(20, strBuf.length, le);
  out.set(typeBuf, BTF_HEADER_LEN);
  out.set(strBuf, BTF_HEADER_LEN + typeLen);
  return out;
}

function vlenOf(t: EncodableType): number {
  switch (t.kind) {
    case "struct":
    case "union":
      return t.members.length;
    case "enum":
    case "enum64":
      return t.values.length;
    case "func_proto":
      return t.params.length;
    case "datasec":
      return t.vars.length;
    case "func": {
      const linkage = LINKAGES.indexOf(t.linkage);
      if (linkage < 0)
        throw new BtfEncodeError(`func '${t.name ?? ""}': unknown linkage ${String(t.linkage)}`);
      return linkage;
    }
    default:
      return 0;
  }
}

function kindFlagOf(t: EncodableType): boolean {
  if (t.kindFlag !== undefined) return t.kindFlag;
  switch (t.kind) {
    case "struct":
    case "union":
      return t.members.some((m) => m.bitfieldSize > 0);
    case "enum":
      return t.values.some((e) => e.value < 0);
    case "enum64":
      return t.values.some((e) => e.value < 0n);
    default:
      return false;
  }
}
