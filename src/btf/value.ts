/**
 * Decoding bytes laid out as a BTF type into plain JS values (map keys and values, global data),
 * in the spirit of bpftool's `map dump` with BTF. The rules:
 * - integers up to 32 bits (and bitfields up to 32 bits) are numbers, signed per the encoding;
 *   wider ones are bigints; `bool` is a boolean; floats of 4/8 bytes are numbers;
 * - pointers are bigints (addresses);
 * - enums are the enumerator's name when the value has one, else the number (bigint for enum64);
 * - arrays are JS arrays, except arrays of `char` (1-byte ints with the char encoding or named
 *   char/signed char/unsigned char) that look like C strings: printable text, a NUL, then only
 *   NULs (or no NUL at all when the text fills the array): those are strings;
 * - structs are objects with one property per named member; the members of an anonymous struct
 *   or union member are merged into the enclosing object, as C lets them be named;
 * - unions are objects with every member decoded from offset 0;
 * - DATASECs (global data) are objects of variable name -> value;
 * - typedefs and qualifiers decode as their target; anything else (void, fwd, func) as the bytes.
 * Bytes shorter than the type end in a FormatError.
 */
import { FormatError } from "../errors.js";
import { resolveTypedefs, sizeof } from "./layout.js";
import type { Btf } from "./Btf.js";
import type { BtfType, Int } from "./types.js";

/** Decode `bytes` as type `typeId` of `btf`; see the module comment for the rules. */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array): unknown {
  return decode(btf.typeById(typeId), bytes, 0);
}

/** Decode `bytes` as the type `t` (a type object of a Btf). */
export function decodeBtfType(t: BtfType, bytes: Uint8Array): unknown {
  return decode(t, bytes, 0);
}

const CHAR_NAMES = new Set(["char", "signed char", "unsigned char"]);
const MAX_DEPTH = 64;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(t: BtfType, bytes: Uint8Array, size: number): void {
  if (bytes.length < size)
    throw new FormatError(
      `${bytes.length} bytes are too few for type [${t.id}] '${t.name}' (${size} bytes)`,
      undefined,
      undefined,
    );
}

/** Unsigned little-endian integer of `size` bytes. */
function readUnsigned(bytes: Uint8Array, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

function intValue(t: Int, bytes: Uint8Array, bitOffset: number, bits: number): number | bigint | boolean {
  const raw = readUnsigned(bytes, t.size);
  let v = (raw >> BigInt(bitOffset)) & ((1n << BigInt(bits)) - 1n);
  if (t.signed) v = BigInt.asIntN(bits, v);
  if (t.isBool) return v !== 0n;
  return bits <= 32 ? Number(v) : v;
}

const isCharType = (t: BtfType): boolean => {
  const r = resolveTypedefs(t);
  return r.kind === "int" && r.size === 1 && (r.isChar || CHAR_NAMES.has(r.name));
};

/** The text of a char array that looks like a C string, else undefined. */
function cString(bytes: Uint8Array): string | undefined {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  for (let i = end; i < bytes.length; i++) if (bytes[i] !== 0) return undefined;
  const text = bytes.subarray(0, end);
  for (const b of text) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(text);
  } catch {
    return undefined;
  }
}

function decode(type: BtfType, bytes: Uint8Array, depth: number): unknown {
  if (depth > MAX_DEPTH)
    throw new FormatError(`type [${type.id}] nests deeper than ${MAX_DEPTH} levels`, undefined, undefined);
  const t = resolveTypedefs(type);
  switch (t.kind) {
    case "int":
      need(t, bytes, t.size);
      return intValue(t, bytes, t.bitOffset, t.bits);
    case "ptr":
      need(t, bytes, 8);
      return readUnsigned(bytes, 8);
    case "float":
      need(t, bytes, t.size);
      if (t.size === 4) return view(bytes).getFloat32(0, true);
      if (t.size === 8) return view(bytes).getFloat64(0, true);
      return bytes.slice(0, t.size);
    case "enum": {
      need(t, bytes, t.size);
      let v = Number(readUnsigned(bytes, t.size));
      if (t.signed) v = Number(BigInt.asIntN(t.size * 8, BigInt(v)));
      const name = t.values.find((e) => e.value === v || e.value >>> 0 === v >>> 0)?.name;
      return name ?? v;
    }
    case "enum64": {
      need(t, bytes, t.size);
      let v = readUnsigned(bytes, t.size);
      if (t.signed) v = BigInt.asIntN(t.size * 8, v);
      const name = t.values.find((e) => BigInt.asUintN(64, e.value) === BigInt.asUintN(64, v))?.name;
      return name ?? v;
    }
    case "array": {
      const size = sizeof(t);
      need(t, bytes, size);
      const elem = t.element;
      if (isCharType(elem)) {
        const s = cString(bytes.subarray(0, t.length));
        if (s !== undefined) return s;
      }
      const es = t.length === 0 ? 0 : size / t.length;
      return Array.from({ length: t.length }, (_, i) =>
        decode(elem, bytes.subarray(i * es, (i + 1) * es), depth + 1),
      );
    }
    case "struct":
    case "union": {
      need(t, bytes, t.size);
      const out: Record<string, unknown> = {};
      for (const m of t.members) {
        const byte = Math.floor(m.bitOffset / 8);
        let value: unknown;
        const mt = resolveTypedefs(m.type);
        if (m.bitfieldSize > 0) {
          // A bitfield: read the bytes holding it and extract its bits.
          const last = Math.floor((m.bitOffset + m.bitfieldSize - 1) / 8);
          need(t, bytes, last + 1);
          const raw = readUnsigned(bytes.subarray(byte), last - byte + 1);
          let v = (raw >> BigInt(m.bitOffset % 8)) & ((1n << BigInt(m.bitfieldSize)) - 1n);
          const signed = (mt.kind === "int" || mt.kind === "enum" || mt.kind === "enum64") && mt.signed;
          if (signed) v = BigInt.asIntN(m.bitfieldSize, v);
          if (mt.kind === "int" && mt.isBool) value = v !== 0n;
          else if (mt.kind === "enum" || mt.kind === "enum64")
            value =
              mt.values.find((e) => BigInt(e.value) === v)?.name ?? (m.bitfieldSize <= 32 ? Number(v) : v);
          else value = m.bitfieldSize <= 32 ? Number(v) : v;
        } else {
          value = decode(m.type, bytes.subarray(byte), depth + 1);
        }
        if (m.name === "" && value !== null && typeof value === "object" && !Array.isArray(value))
          Object.assign(out, value);
        else if (m.name !== "") out[m.name] = value;
      }
      return out;
    }
    case "datasec": {
      const out: Record<string, unknown> = {};
      for (const v of t.vars) {
        const vt = v.type;
        const name = vt.name;
        const inner = vt.kind === "var" ? vt.type : vt;
        need(t, bytes, v.offset + v.size);
        out[name] = decode(inner, bytes.subarray(v.offset, v.offset + v.size), depth + 1);
      }
      return out;
    }
    case "var":
      return decode(t.type, bytes, depth + 1);
    default:
      return bytes.slice();
  }
}
