/**
 * A tiny C struct layout language for the kernel's binary interfaces (union bpf_attr, the
 * bpf_*_info structs, perf_event_attr…). A layout is the ordered list of a struct's fields,
 * written as in the C header; offsets follow the C rules (natural alignment), so the tables
 * read like the header they come from and are checked against it by a test.
 *
 *   ["map_fd", "u32"]                      one field
 *   [["value", "next_key"], "ptr"]         anonymous union: several names, one offset
 *   ["tracing.cookie", "u64", { at: 16 }]  a union of structs: the member starts at `at`
 *
 * Values are native endian (every architecture tsbpf supports is little endian).
 */

/** Field kinds: fixed-width integers, user pointers (__aligned_u64), char and byte arrays. */
export type ScalarKind = "u8" | "u16" | "u32" | "s32" | "u64" | "s64" | "ptr";
export type ArrayKind = `char[${number}]` | `u8[${number}]`;
export type FieldKind = ScalarKind | ArrayKind;

export type Entry = readonly [name: string | readonly string[], kind: FieldKind, options?: { at: number }];

export interface FieldSpec {
  readonly offset: number;
  readonly size: number;
  readonly kind: FieldKind;
}

type NamesOf<E> = E extends readonly [infer N, FieldKind, ...unknown[]]
  ? N extends string
    ? N
    : N extends readonly (infer M extends string)[]
      ? M
      : never
  : never;
type KindOf<E> = E extends readonly [unknown, infer K extends FieldKind, ...unknown[]] ? K : never;

/** What decoding a field gives. */
export type OutputOf<K extends FieldKind> = K extends "u64" | "s64" | "ptr"
  ? bigint
  : K extends `char[${number}]`
    ? string
    : K extends `u8[${number}]`
      ? Uint8Array
      : number;

/**
 * What encoding a field takes. A pointer may be given as a buffer (its address is taken for the
 * duration of the call) or a string (passed as a NUL-terminated C string).
 */
export type InputOf<K extends FieldKind> = K extends "u64" | "s64"
  ? bigint | number
  : K extends "ptr"
    ? bigint | number | Uint8Array | string | null
    : K extends `char[${number}]`
      ? string
      : K extends `u8[${number}]`
        ? Uint8Array
        : number;

type FieldMap<Es extends readonly Entry[]> = { [E in Es[number] as NamesOf<E>]: KindOf<E> };

/** The decoded values of a layout. */
export type Decoded<L> = L extends Layout<infer F> ? { -readonly [N in keyof F]: OutputOf<F[N]> } : never;
/** The values one may give to encode a layout (all optional: absent fields are zero). */
export type Encodable<L> = L extends Layout<infer F> ? { -readonly [N in keyof F]?: InputOf<F[N]> } : never;

/** A struct layout: field offsets and the size up to the end of the last field. */
export interface Layout<F extends Record<string, FieldKind> = Record<string, FieldKind>> {
  readonly name: string;
  /** offsetofend of the last field (what libbpf passes as the attr size). */
  readonly size: number;
  /** sizeof the struct (size rounded up to its alignment). */
  readonly sizeof: number;
  readonly fields: { readonly [N in keyof F]: FieldSpec };
}

function kindSize(kind: FieldKind): { size: number; align: number } {
  const array = /^(char|u8)\[(\d+)\]$/.exec(kind);
  if (array) return { size: Number(array[2]), align: 1 };
  const sizes: Record<ScalarKind, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, s64: 8, ptr: 8 };
  const size = sizes[kind as ScalarKind];
  return { size, align: size };
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Builds a layout from its fields in header order. */
export function struct<const Es extends readonly Entry[]>(name: string, entries: Es): Layout<FieldMap<Es>> {
  const fields: Record<string, FieldSpec> = {};
  let cursor = 0;
  let end = 0;
  let maxAlign = 1;
  for (const [names, kind, options] of entries) {
    const { size, align } = kindSize(kind);
    maxAlign = Math.max(maxAlign, align);
    const offset = alignUp(options?.at ?? cursor, align);
    for (const n of typeof names === "string" ? [names] : names) fields[n] = { offset, size, kind };
    cursor = offset + size;
    end = Math.max(end, cursor);
  }
  return { name, size: end, sizeof: alignUp(end, maxAlign), fields } as Layout<FieldMap<Es>>;
}

/** Writes one field. `value` must already be a plain number, bigint, string or byte array. */
export function writeField(
  view: DataView,
  spec: FieldSpec,
  value: number | bigint | string | Uint8Array,
  layoutName: string,
): void {
  const { offset, kind, size } = spec;
  if (kind.startsWith("char[") || kind.startsWith("u8[")) {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${layoutName}: ${kind} field needs bytes`);
    // char arrays keep a terminating NUL, like the kernel's object names.
    const max = kind.startsWith("char[") ? size - 1 : size;
    new Uint8Array(view.buffer, view.byteOffset + offset, size).set(bytes.subarray(0, max));
    return;
  }
  switch (kind as ScalarKind) {
    case "u8":
      view.setUint8(offset, Number(value));
      return;
    case "u16":
      view.setUint16(offset, Number(value), true);
      return;
    case "u32":
      view.setUint32(offset, Number(value) >>> 0, true);
      return;
    case "s32":
      view.setInt32(offset, Number(value) | 0, true);
      return;
    default:
      view.setBigUint64(offset, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
  }
}

/** Reads one field. */
export function readField(view: DataView, spec: FieldSpec): number | bigint | string | Uint8Array {
  const { offset, kind, size } = spec;
  if (kind.startsWith("char[")) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, size);
    const nul = bytes.indexOf(0);
    return new TextDecoder().decode(bytes.subarray(0, nul < 0 ? size : nul));
  }
  if (kind.startsWith("u8[")) return new Uint8Array(view.buffer, view.byteOffset + offset, size).slice();
  switch (kind as ScalarKind) {
    case "u8":
      return view.getUint8(offset);
    case "u16":
      return view.getUint16(offset, true);
    case "u32":
      return view.getUint32(offset, true);
    case "s32":
      return view.getInt32(offset, true);
    case "s64":
      return view.getBigInt64(offset, true);
    default:
      return view.getBigUint64(offset, true);
  }
}

/** Decodes every field of a layout from `bytes` (which must hold at least `layout.size` bytes). */
export function decodeStruct<L extends Layout>(layout: L, bytes: Uint8Array): Decoded<L> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(layout.fields as Record<string, FieldSpec>)) {
    out[name] = spec.offset + spec.size <= bytes.byteLength ? readField(view, spec) : zeroOf(spec.kind);
  }
  return out as Decoded<L>;
}

function zeroOf(kind: FieldKind): number | bigint | string | Uint8Array {
  if (kind.startsWith("char[")) return "";
  if (kind.startsWith("u8[")) return new Uint8Array(kindSize(kind).size);
  return kind === "u64" || kind === "s64" || kind === "ptr" ? 0n : 0;
}

/**
 * Encodes plain values (no buffers in pointer fields: resolve those to addresses first) into a
 * fresh zeroed buffer of `layout.size` bytes (or `size` when given).
 */
export function encodeStruct<L extends Layout>(
  layout: L,
  values: Readonly<Record<string, number | bigint | string | Uint8Array | null | undefined>>,
  size = layout.size,
): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const fields = layout.fields as Record<string, FieldSpec>;
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const spec = fields[name];
    if (!spec) throw new TypeError(`${layout.name}: no field '${name}'`);
    writeField(view, spec, value, layout.name);
  }
  return bytes;
}
