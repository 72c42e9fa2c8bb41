/**
 * The BTF type graph: one class per kind, discriminated by `kind`. Numeric fields hold what the
 * record holds (ids, sizes, bit offsets); getters resolve ids through the owning Btf, decoding
 * the target on first use. Every type's own data are plain own properties, so `{ ...t, size }`
 * gives an object that `encodeBtf` accepts.
 */
import type { FuncLinkage, TypeKind, VarLinkage } from "./kinds.js";
import { IntEncoding } from "./kinds.js";

/** What a type needs from its container to resolve references. */
export interface TypeResolver {
  typeById(id: number): BtfType;
  /** For error messages: the file and the byte offset of a type's record. */
  readonly file?: string | undefined;
  offsetOf?(id: number): number | undefined;
}

/** Fields every type has. */
interface Common {
  /** Type id (0 is void). */
  readonly id: number;
  /** Name; "" when anonymous. */
  readonly name: string;
  /** The record's kind_flag bit, kept as read for a faithful re-encoding. */
  readonly kindFlag: boolean;
}

abstract class TypeBase implements Common {
  /** The Btf that resolves references; a private field, so spreading copies data only. */
  readonly #resolver: TypeResolver;
  constructor(
    resolver: TypeResolver,
    readonly id: number,
    readonly name: string,
    readonly kindFlag: boolean,
  ) {
    this.#resolver = resolver;
  }
  protected resolve(id: number): BtfType {
    return this.#resolver.typeById(id);
  }
  /** @internal the container of a type (for error messages). */
  static resolverOf(t: object): TypeResolver | undefined {
    return #resolver in t ? (t as TypeBase).#resolver : undefined;
  }
}

/** The Btf (or other resolver) a decoded type belongs to; undefined for void. */
export function resolverOf(t: BtfType): TypeResolver | undefined {
  return TypeBase.resolverOf(t);
}

/** Type id 0. */
export class Void implements Common {
  readonly kind = "void";
  readonly id = 0;
  readonly name = "void";
  readonly kindFlag = false;
}
export const VOID: Void = new Void();

export class Int extends TypeBase {
  readonly kind = "int";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    /** Size in bytes. */
    readonly size: number,
    /** BTF_INT_ENCODING bits: 1 signed, 2 char, 4 bool. */
    readonly encoding: number,
    /** BTF_INT_OFFSET: bit offset of the value in its storage. */
    readonly bitOffset: number,
    /** BTF_INT_BITS: number of value bits. */
    readonly bits: number,
  ) {
    super(r, id, name, kindFlag);
  }
  get signed(): boolean {
    return (this.encoding & IntEncoding.Signed) !== 0;
  }
  get isChar(): boolean {
    return (this.encoding & IntEncoding.Char) !== 0;
  }
  get isBool(): boolean {
    return (this.encoding & IntEncoding.Bool) !== 0;
  }
}

/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a name (or not) and one target. */
abstract class RefBase extends TypeBase {
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly targetId: number,
  ) {
    super(r, id, name, kindFlag);
  }
  get target(): BtfType {
    return this.resolve(this.targetId);
  }
}
export class Pointer extends RefBase {
  readonly kind = "ptr";
}
export class Typedef extends RefBase {
  readonly kind = "typedef";
}
export class Volatile extends RefBase {
  readonly kind = "volatile";
}
export class Const extends RefBase {
  readonly kind = "const";
}
export class Restrict extends RefBase {
  readonly kind = "restrict";
}
/** `__attribute__((btf_type_tag("name")))` on the target type. */
export class TypeTag extends RefBase {
  readonly kind = "type_tag";
}

export class ArrayType extends TypeBase {
  readonly kind = "array";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly elementId: number,
    readonly indexId: number,
    /** nelems */
    readonly length: number,
  ) {
    super(r, id, name, kindFlag);
  }
  get element(): BtfType {
    return this.resolve(this.elementId);
  }
  get index(): BtfType {
    return this.resolve(this.indexId);
  }
}

/** A struct or union member. */
export class Member {
  constructor(
    resolver: TypeResolver,
    readonly name: string,
    readonly typeId: number,
    /** Offset of the member from the start of the struct, in bits. */
    readonly bitOffset: number,
    /** Width of a bitfield in bits; 0 when the member is not a bitfield. */
    readonly bitfieldSize: number,
  ) {
    this.#resolver = resolver;
  }
  readonly #resolver: TypeResolver;
  get type(): BtfType {
    return this.#resolver.typeById(this.typeId);
  }
}

abstract class CompositeBase extends TypeBase {
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    /** Size in bytes. */
    readonly size: number,
    readonly members: readonly Member[],
  ) {
    super(r, id, name, kindFlag);
  }
}
/** STRUCT; `kindFlag` set means member offsets carry bitfield sizes. */
export class Struct extends CompositeBase {
  readonly kind = "struct";
}
export class Union extends CompositeBase {
  readonly kind = "union";
}

export interface EnumValue {
  readonly name: string;
  readonly value: number;
}
export interface Enum64Value {
  readonly name: string;
  readonly value: bigint;
}
/** ENUM: values up to 32 bits; `kindFlag` (= `signed`) set means the values are signed. */
export class Enum extends TypeBase {
  readonly kind = "enum";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly size: number,
    readonly values: readonly EnumValue[],
  ) {
    super(r, id, name, kindFlag);
  }
  get signed(): boolean {
    return this.kindFlag;
  }
}
/** ENUM64: values up to 64 bits. */
export class Enum64 extends TypeBase {
  readonly kind = "enum64";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly size: number,
    readonly values: readonly Enum64Value[],
  ) {
    super(r, id, name, kindFlag);
  }
  get signed(): boolean {
    return this.kindFlag;
  }
}

/** A forward declaration: `struct X;` or, with kindFlag, `union X;`. */
export class Fwd extends TypeBase {
  readonly kind = "fwd";
  get fwdKind(): "struct" | "union" {
    return this.kindFlag ? "union" : "struct";
  }
}

export class Func extends TypeBase {
  readonly kind = "func";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly protoId: number,
    readonly linkage: FuncLinkage,
  ) {
    super(r, id, name, kindFlag);
  }
  get proto(): BtfType {
    return this.resolve(this.protoId);
  }
}

export class Param {
  constructor(
    resolver: TypeResolver,
    readonly name: string,
    /** 0 (void) in the last position means `...`. */
    readonly typeId: number,
  ) {
    this.#resolver = resolver;
  }
  readonly #resolver: TypeResolver;
  get type(): BtfType {
    return this.#resolver.typeById(this.typeId);
  }
}

export class FuncProto extends TypeBase {
  readonly kind = "func_proto";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly returnId: number,
    readonly params: readonly Param[],
  ) {
    super(r, id, name, kindFlag);
  }
  get returnType(): BtfType {
    return this.resolve(this.returnId);
  }
  /** True when the last parameter is `...`. */
  get variadic(): boolean {
    const last = this.params[this.params.length - 1];
    return last !== undefined && last.typeId === 0;
  }
}

export class Var extends TypeBase {
  readonly kind = "var";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly typeId: number,
    readonly linkage: VarLinkage,
  ) {
    super(r, id, name, kindFlag);
  }
  get type(): BtfType {
    return this.resolve(this.typeId);
  }
}

/** One variable of a DATASEC (struct btf_var_secinfo). */
export class VarSecinfo {
  constructor(
    resolver: TypeResolver,
    /** A VAR (or a FUNC for .ksyms). */
    readonly typeId: number,
    /** Offset in the section, in bytes. */
    readonly offset: number,
    /** Size in bytes. */
    readonly size: number,
  ) {
    this.#resolver = resolver;
  }
  readonly #resolver: TypeResolver;
  get type(): BtfType {
    return this.#resolver.typeById(this.typeId);
  }
}

/** An ELF data section (.data, .bss, .rodata, .maps, .ksyms...) and the variables in it. */
export class Datasec extends TypeBase {
  readonly kind = "datasec";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly size: number,
    readonly vars: readonly VarSecinfo[],
  ) {
    super(r, id, name, kindFlag);
  }
}

export class Float extends TypeBase {
  readonly kind = "float";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly size: number,
  ) {
    super(r, id, name, kindFlag);
  }
}

/** `__attribute__((btf_decl_tag("name")))` on a type, or on one of its members/params. */
export class DeclTag extends TypeBase {
  readonly kind = "decl_tag";
  constructor(
    r: TypeResolver,
    id: number,
    name: string,
    kindFlag: boolean,
    readonly targetId: number,
    /** -1: the tag applies to the target itself; otherwise the member or parameter index. */
    readonly componentIdx: number,
  ) {
    super(r, id, name, kindFlag);
  }
  get target(): BtfType {
    return this.resolve(this.targetId);
  }
}

/** Any BTF type, discriminated by `kind`. */
export type BtfType =
  | Void
  | Int
  | Pointer
  | ArrayType
  | Struct
  | Union
  | Enum
  | Fwd
  | Typedef
  | Volatile
  | Const
  | Restrict
  | Func
  | FuncProto
  | Var
  | Datasec
  | Float
  | DeclTag
  | TypeTag
  | Enum64;

/** Any type with a record of its own: every type but void. */
export type DefinedType = Exclude<BtfType, Void>;

/** The types of a given kind. */
export type TypeOfKind<K extends TypeKind> = Extract<BtfType, { kind: K }>;

/** Struct or union. */
export type Composite = Struct | Union;
/** Qualifiers and type tags: types that change nothing about layout. */
export type Modifier = Volatile | Const | Restrict | TypeTag;

export function isComposite(t: BtfType): t is Composite {
  return t.kind === "struct" || t.kind === "union";
}
export function isModifier(t: BtfType): t is Modifier {
  return t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag";
}
