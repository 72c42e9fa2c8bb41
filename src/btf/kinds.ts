/**
 * BTF kinds as the kernel numbers them (include/uapi/linux/btf.h), the names tsbpf uses for
 * them, and the layout of the data that follows each `struct btf_type` record.
 */

/** BTF_KIND_* values. */
export enum BtfKind {
  Unknown = 0,
  Int = 1,
  Pointer = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

/** The `kind` discriminant of tsbpf's BTF types: the C name of BTF_KIND_X in lower case. */
export type TypeKind =
  | "void"
  | "int"
  | "ptr"
  | "array"
  | "struct"
  | "union"
  | "enum"
  | "fwd"
  | "typedef"
  | "volatile"
  | "const"
  | "restrict"
  | "func"
  | "func_proto"
  | "var"
  | "datasec"
  | "float"
  | "decl_tag"
  | "type_tag"
  | "enum64";

/**
 * One row per BTF kind: its tsbpf name, bpftool's name, and the size of the trailing data:
 * `fixed` bytes plus `perVlen` bytes for each of the vlen entries (members, params, values...).
 * FUNC keeps its linkage in vlen, so it has no per-entry data.
 */
export const KIND_TABLE: readonly {
  readonly kind: TypeKind;
  readonly upper: string;
  readonly fixed: number;
  readonly perVlen: number;
}[] = [
  { kind: "void", upper: "UNKNOWN", fixed: 0, perVlen: 0 },
  { kind: "int", upper: "INT", fixed: 4, perVlen: 0 },
  { kind: "ptr", upper: "PTR", fixed: 0, perVlen: 0 },
  { kind: "array", upper: "ARRAY", fixed: 12, perVlen: 0 },
  { kind: "struct", upper: "STRUCT", fixed: 0, perVlen: 12 },
  { kind: "union", upper: "UNION", fixed: 0, perVlen: 12 },
  { kind: "enum", upper: "ENUM", fixed: 0, perVlen: 8 },
  { kind: "fwd", upper: "FWD", fixed: 0, perVlen: 0 },
  { kind: "typedef", upper: "TYPEDEF", fixed: 0, perVlen: 0 },
  { kind: "volatile", upper: "VOLATILE", fixed: 0, perVlen: 0 },
  { kind: "const", upper: "CONST", fixed: 0, perVlen: 0 },
  { kind: "restrict", upper: "RESTRICT", fixed: 0, perVlen: 0 },
  { kind: "func", upper: "FUNC", fixed: 0, perVlen: 0 },
  { kind: "func_proto", upper: "FUNC_PROTO", fixed: 0, perVlen: 8 },
  { kind: "var", upper: "VAR", fixed: 4, perVlen: 0 },
  { kind: "datasec", upper: "DATASEC", fixed: 0, perVlen: 12 },
  { kind: "float", upper: "FLOAT", fixed: 0, perVlen: 0 },
  { kind: "decl_tag", upper: "DECL_TAG", fixed: 4, perVlen: 0 },
  { kind: "type_tag", upper: "TYPE_TAG", fixed: 0, perVlen: 0 },
  { kind: "enum64", upper: "ENUM64", fixed: 0, perVlen: 12 },
];

/** TypeKind -> BTF_KIND_* number. */
export const KIND_NUMBER: Readonly<Record<TypeKind, BtfKind>> = Object.fromEntries(
  KIND_TABLE.map((row, i) => [row.kind, i]),
) as Record<TypeKind, BtfKind>;

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** Size of `struct btf_header`. */
export const BTF_HEADER_LEN = 24;
/** Size of `struct btf_type`. */
export const BTF_TYPE_LEN = 12;
/** BTF_MAX_TYPE: the largest type id. */
export const BTF_MAX_TYPE = 0xfffff;
/** BTF_MAX_NAME_OFFSET */
export const BTF_MAX_NAME_OFFSET = 0xffffff;

/** BTF_INT_* encoding bits. */
export const IntEncoding = { Signed: 1, Char: 2, Bool: 4 } as const;

/** Linkage of a FUNC (enum btf_func_linkage). */
export type FuncLinkage = "static" | "global" | "extern";
/** Linkage of a VAR (BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN). */
export type VarLinkage = "static" | "global" | "extern";
export const LINKAGES: readonly ("static" | "global" | "extern")[] = ["static", "global", "extern"];
