/**
 * BTF to C, as `bpftool btf dump file X format c` prints it (a port of libbpf's btf_dump.c):
 * types ordered so that every definition precedes its by-value uses, forward declarations for
 * pointer-only uses, anonymous structs/unions/enums inline, explicit padding and bitfields,
 * `__attribute__((packed))` where the layout demands it, duplicate names suffixed `___N`.
 * Bad BTF (loops, absurd sizes, impossible declarator chains) ends in a FormatError.
 */
import { FormatError } from "../errors.js";
import type { Btf } from "./Btf.js";
import { KIND_NUMBER, KIND_TABLE } from "./kinds.js";
import { alignof, isPacked, sizeof, BPF_PTR_SIZE } from "./layout.js";
import type { BtfType, Composite, Enum, Enum64, Fwd, Typedef } from "./types.js";

export interface DumpCOptions {
  /**
   * Wrap the output like bpftool's vmlinux.h: an include guard and the
   * `#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)`
   * block that makes every struct CO-RE relocatable. Default true; the guard macro is
   * `__VMLINUX_H__` unless given.
   */
  header?: boolean | { guard: string };
  /** Dump only these types and what they depend on (default: every type). */
  rootIds?: readonly number[];
  /** Pointer size of the target (default 8). */
  ptrSize?: number;
  /** Output size at which the dump stops with a FormatError (default 256 MiB). */
  maxOutputChars?: number;
}

/** Prints a Btf as a C header. */
export function dumpC(btf: Btf, options: DumpCOptions = {}): string {
  const d = new CDumper(btf, options);
  const header = options.header ?? true;
  const guard = typeof header === "object" ? header.guard : "__VMLINUX_H__";
  if (header) {
    d.print(`#ifndef ${guard}\n#define ${guard}\n\n`);
    d.print(
      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
        "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
        "#endif\n\n",
    );
  }
  const roots = options.rootIds ?? range(1, btf.count);
  for (const id of roots) d.dumpType(id);
  if (header) {
    d.print("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
    d.print(`#endif /* ${guard} */\n`);
  }
  return d.output();
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

const enum Order {
  NotOrdered = 0,
  Ordering = 1,
  Ordered = 2,
}
const enum Emit {
  NotEmitted = 0,
  Emitting = 1,
  Emitted = 2,
}

/** Recursion deeper than this is a loop or hostile input. */
const MAX_DEPTH = 512;

class CDumper {
  private readonly chunks: string[] = [];
  private size = 0;
  private readonly maxChars: number;
  private readonly ptrSize: number;
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly resolvedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private emitQueue: number[] = [];
  private depth = 0;
  /** Work budget: each recursive step costs one; hostile graphs (DAGs of anonymous types) run out. */
  private steps: number;

  constructor(
    private readonly btf: Btf,
    options: DumpCOptions,
  ) {
    const n = btf.count;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.ptrSize = options.ptrSize ?? BPF_PTR_SIZE;
    this.maxChars = options.maxOutputChars ?? 256 * 1024 * 1024;
    this.steps = 2_000_000 + 400 * n;
    this.markReferenced();
  }

  print(s: string): void {
    this.size += s.length;
    if (this.size > this.maxChars) {
      throw new FormatError(`C dump larger than ${this.maxChars} characters`, this.btf.file, undefined);
    }
    this.chunks.push(s);
  }

  output(): string {
    return this.chunks.join("");
  }

  private type(id: number): BtfType {
    return this.btf.typeById(id);
  }

  private fail(t: BtfType, message: string): FormatError {
    const kind = KIND_TABLE[KIND_NUMBER[t.kind]]!.upper;
    return new FormatError(
      `type [${t.id}] ${kind} '${t.name}': ${message}`,
      this.btf.file,
      this.btf.offsetOf(t.id),
    );
  }

  /** Enters one level of recursion; every recursive method calls it and `leave()`. */
  private enter(t: BtfType): void {
    if (++this.depth > MAX_DEPTH)
      throw this.fail(t, `type graph nested deeper than ${MAX_DEPTH} (a reference loop?)`);
    if (--this.steps < 0) throw this.fail(t, "type graph too complex to print");
  }
  private leave(): void {
    this.depth--;
  }

  private markReferenced(): void {
    const mark = (id: number) => {
      if (id < this.referenced.length) this.referenced[id] = 1;
    };
    for (let id = 1; id < this.btf.count; id++) {
      const t = this.type(id);
      switch (t.kind) {
        case "ptr":
        case "typedef":
        case "volatile":
        case "const":
        case "restrict":
        case "type_tag":
        case "decl_tag":
          mark(t.targetId);
          break;
        case "func":
          mark(t.protoId);
          break;
        case "var":
          mark(t.typeId);
          break;
        case "array":
          mark(t.indexId);
          mark(t.elementId);
          break;
        case "struct":
        case "union":
          for (const m of t.members) mark(m.typeId);
          break;
        case "func_proto":
          mark(t.returnId);
          for (const p of t.params) mark(p.typeId);
          break;
        case "datasec":
          for (const v of t.vars) mark(v.typeId);
          break;
        default:
          break;
      }
    }
  }

  dumpType(id: number): void {
    this.emitQueue = [];
    this.orderType(id, false);
    for (const qid of this.emitQueue) this.emitType(qid, 0);
  }

  // ---- ordering (btf_dump_order_type) ----

  /** Returns true when the type forms a "strong" link (must be defined before by-value use). */
  private orderType(id: number, throughPtr: boolean): boolean {
    if (this.orderState[id] === Order.Ordered) return true;
    const t = this.type(id);
    if (this.orderState[id] === Order.Ordering) {
      // a loop, resolvable through a forward declaration only for named structs behind a pointer
      if ((t.kind === "struct" || t.kind === "union") && throughPtr && t.name !== "") return false;
      throw this.fail(t, "unsatisfiable type cycle");
    }
    this.enter(t);
    try {
      return this.orderKind(t, id, throughPtr);
    } finally {
      this.leave();
    }
  }

  private orderKind(t: BtfType, id: number, throughPtr: boolean): boolean {
    switch (t.kind) {
      case "void":
        return false;
      case "int":
      case "float":
        this.orderState[id] = Order.Ordered;
        return false;
      case "ptr": {
        const strong = this.orderType(t.targetId, true);
        this.orderState[id] = Order.Ordered;
        return strong;
      }
      case "array":
        return this.orderType(t.elementId, false);
      case "struct":
      case "union": {
        // part of a strong link only when embedded, or anonymous (defined inline even behind a pointer)
        if (throughPtr && t.name !== "") return false;
        this.orderState[id] = Order.Ordering;
        for (const m of t.members) this.orderType(m.typeId, false);
        if (t.name !== "") this.emitQueue.push(id);
        this.orderState[id] = Order.Ordered;
        return true;
      }
      case "enum":
      case "enum64":
      case "fwd":
        // named or unreferenced enums are top-level declarations
        if (t.name !== "" || !this.referenced[id]) this.emitQueue.push(id);
        this.orderState[id] = Order.Ordered;
        return true;
      case "typedef": {
        const strong = this.orderType(t.targetId, throughPtr);
        if (throughPtr && !strong) return false;
        this.emitQueue.push(id);
        this.orderState[id] = Order.Ordered;
        return true;
      }
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        return this.orderType(t.targetId, throughPtr);
      case "func_proto": {
        let strong = this.orderType(t.returnId, throughPtr);
        for (const p of t.params) if (this.orderType(p.typeId, throughPtr)) strong = true;
        return strong;
      }
      case "func":
      case "var":
      case "datasec":
      case "decl_tag":
        this.orderState[id] = Order.Ordered;
        return false;
    }
  }

  // ---- emission (btf_dump_emit_type) ----

  private emitType(id: number, contId: number): void {
    if (this.emitState[id] === Emit.Emitted) return;
    const t = this.type(id);
    this.enter(t);
    try {
      this.emitKind(t, id, contId);
    } finally {
      this.leave();
    }
  }

  private emitKind(t: BtfType, id: number, contId: number): void {
    const topLevel = contId === 0;
    if (this.emitState[id] === Emit.Emitting) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === "struct" || t.kind === "union") {
        // referencing the struct we are part of needs no forward declaration
        if (id === contId) return;
        if (t.name === "") throw this.fail(t, "anonymous struct/union loop");
        this.emitStructFwd(t);
        this.print(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (t.kind === "typedef") {
        // the typedef can be used through pointers before the type it names is complete
        if (!this.isBlacklisted(t)) {
          this.emitTypedefDef(t, 0);
          this.print(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case "int":
      case "float":
        this.emitState[id] = Emit.Emitted;
        break;
      case "enum":
      case "enum64":
        if (topLevel) {
          this.emitEnumDef(t, 0);
          this.print(";\n\n");
        }
        this.emitState[id] = Emit.Emitted;
        break;
      case "ptr":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        this.emitType(t.targetId, contId);
        break;
      case "array":
        this.emitType(t.elementId, contId);
        break;
      case "fwd":
        this.emitFwdDef(t);
        this.print(";\n\n");
        this.emitState[id] = Emit.Emitted;
        break;
      case "typedef":
        this.emitState[id] = Emit.Emitting;
        this.emitType(t.targetId, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) {
          this.emitTypedefDef(t, 0);
          this.print(";\n\n");
        }
        this.emitState[id] = Emit.Emitted;
        break;
      case "struct":
      case "union":
        this.emitState[id] = Emit.Emitting;
        // a definition prints every member's type: make sure those are declared first
        if (topLevel || t.name === "") {
          const newCont = t.name === "" ? contId : id;
          for (const m of t.members) this.emitType(m.typeId, newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(t);
          this.print(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(t, 0);
          this.print(";\n\n");
          this.emitState[id] = Emit.Emitted;
        } else {
          this.emitState[id] = Emit.NotEmitted;
        }
        break;
      case "func_proto":
        this.emitType(t.returnId, contId);
        for (const p of t.params) this.emitType(p.typeId, contId);
        break;
      default:
        break;
    }
  }

  /** __builtin_va_list is the compiler's own. */
  private isBlacklisted(t: Typedef): boolean {
    return t.name === "__builtin_va_list";
  }

  // ---- names ----

  private resolveName(t: BtfType, names: Map<string, number>): string {
    if (t.name === "") return "";
    const cached = this.resolvedNames.get(t.id);
    if (cached !== undefined) return cached;
    let name = t.name;
    if (!(t.kind === "fwd" || (t.kind === "enum" && t.values.length === 0))) {
      const dups = nameDups(names, t.name);
      if (dups > 1) name = `${t.name}___${dups}`;
    }
    this.resolvedNames.set(t.id, name);
    return name;
  }
  private typeName(t: BtfType): string {
    return this.resolveName(t, this.typeNames);
  }
  private identName(t: BtfType): string {
    return this.resolveName(t, this.identNames);
  }

  // ---- definitions ----

  private emitStructFwd(t: Composite): void {
    this.print(`${t.kind}${t.name ? " " : ""}${this.typeName(t)}`);
  }

  private emitFwdDef(t: Fwd): void {
    this.print(`${t.fwdKind} ${this.typeName(t)}`);
  }

  private emitTypedefDef(t: Typedef, lvl: number): void {
    const name = this.identName(t);
    // old GCC emitted __gnuc_va_list as a typedef of void
    if (t.targetId === 0 && name === "__gnuc_va_list") {
      this.print("__builtin_va_list");
      return;
    }
    this.print("typedef ");
    this.emitTypeDecl(t.targetId, name, lvl);
  }

  private emitStructDef(t: Composite, lvl: number): void {
    const isStruct = t.kind === "struct";
    const packed = isStruct ? this.isPacked(t) : false;
    const align = this.alignOf(t);
    this.print(`${t.kind}${t.name ? " " : ""}${this.typeName(t)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      this.emitBitPadding(t, off, m.bitOffset, mAlign, inBitfield, lvl + 1);
      this.print(`\n${indent(lvl + 1)}`);
      this.emitTypeDecl(m.typeId, m.name, lvl + 1);
      if (m.bitfieldSize) {
        this.print(`: ${m.bitfieldSize}`);
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        off = m.bitOffset + Math.max(0, this.sizeOf(m.type)) * 8;
        prevBitfield = false;
      }
      this.print(";");
    }
    if (isStruct) this.emitBitPadding(t, off, t.size * 8, align, false, lvl + 1);
    // keep `struct empty {}` on one line
    if (t.members.length || t.size) this.print(`\n${indent(lvl)}}`);
    else this.print("}");
    if (packed) this.print(" __attribute__((packed))");
  }

  private alignOf(t: BtfType): number {
    try {
      return alignof(t, this.ptrSize);
    } catch (e) {
      if (e instanceof FormatError) return 1;
      throw e;
    }
  }
  private sizeOf(t: BtfType): number {
    try {
      return sizeof(t, this.ptrSize);
    } catch (e) {
      if (e instanceof FormatError) return 0;
      throw e;
    }
  }
  private isPacked(t: Composite): boolean {
    try {
      return isPacked(t, this.ptrSize);
    } catch (e) {
      if (e instanceof FormatError) return false;
      throw e;
    }
  }

  /** Fills a gap between fields with `type: bits;` markers (btf_dump_emit_bit_padding). */
  private emitBitPadding(
    t: Composite,
    curOff: number,
    nextOff: number,
    nextAlign: number,
    inBitfield: boolean,
    lvl: number,
  ): void {
    if (curOff >= nextOff) return;
    if (nextOff - curOff > MAX_PADDING_BITS) {
      throw this.fail(t, `gap of ${nextOff - curOff} bits between fields is too large to print`);
    }
    const pads: readonly [string, number][] = [
      ["long", this.ptrSize * 8],
      ["int", 32],
      ["short", 16],
      ["char", 8],
    ];
    let newOff = curOff;
    let padBits = 8;
    let padType = "char";
    for (const [name, bits] of pads) {
      const aligned = roundUp(curOff, bits);
      if (aligned <= nextOff) {
        newOff = aligned;
        padBits = bits;
        padType = name;
        break;
      }
    }
    if (newOff > curOff) {
      // A mark is needed when the compiler would not align to newOff by itself, or when a
      // following `type: X` would fit in the remaining hole and be ignored. After a bitfield
      // the mark covers the rest of the storage unit (`long: 28;`), as libbpf 1.1 prints it.
      if (
        inBitfield ||
        (newOff === nextOff && roundUp(curOff, nextAlign * 8) !== newOff) ||
        (newOff !== nextOff && nextOff - newOff < padBits)
      ) {
        this.print(`\n${indent(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`);
      }
    }
    while (newOff < nextOff) {
      const bits = Math.min(nextOff - newOff, padBits);
      this.print(`\n${indent(lvl)}${padName(bits, pads)}: ${bits};`);
      newOff += bits;
    }
  }

  private emitEnumDef(t: Enum | Enum64, lvl: number): void {
    this.print(`enum${t.name ? " " : ""}${this.typeName(t)}`);
    if (t.values.length === 0) return;
    this.print(" {");
    const suffix = t.kind === "enum64" ? (t.signed ? "LL" : "ULL") : "";
    for (const v of t.values) {
      // enumerators share the namespace of typedef names
      const dups = nameDups(this.identNames, v.name);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      this.print(`\n${indent(lvl + 1)}${name} = ${v.value}${suffix},`);
    }
    this.print(`\n${indent(lvl)}}`);
    // enums of unusual sizes
    if (t.size === 1) this.print(" __attribute__((mode(byte)))");
    else if (t.size === 2) this.print(" __attribute__((mode(HI)))");
    else if (t.size === 8 && t.kind === "enum") this.print(" __attribute__((mode(DI)))");
  }

  // ---- declarations (btf_dump_emit_type_decl / emit_type_chain) ----

  /** Prints `<type> <name>` in C declarator syntax for type `id` and field/param name `fname`. */
  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    const stack: number[] = [];
    for (let steps = 0; ; steps++) {
      if (steps > MAX_DEPTH) throw this.fail(this.type(id), "declarator chain too long (a reference loop?)");
      stack.push(id);
      if (id === 0) break;
      const t = this.type(id);
      if (
        t.kind === "ptr" ||
        t.kind === "volatile" ||
        t.kind === "const" ||
        t.kind === "restrict" ||
        t.kind === "type_tag"
      ) {
        id = t.targetId;
      } else if (t.kind === "func_proto") {
        id = t.returnId;
      } else if (t.kind === "array") {
        id = t.elementId;
      } else if (
        t.kind === "int" ||
        t.kind === "enum" ||
        t.kind === "enum64" ||
        t.kind === "fwd" ||
        t.kind === "struct" ||
        t.kind === "union" ||
        t.kind === "typedef" ||
        t.kind === "float"
      ) {
        break;
      } else {
        throw this.fail(t, "unexpected kind in a declaration");
      }
    }
    this.enter(this.type(id));
    try {
      this.emitTypeChain(stack, fname, lvl);
    } finally {
      this.leave();
    }
  }

  private emitMods(decls: number[]): void {
    while (decls.length) {
      const t = this.type(decls[decls.length - 1]!);
      if (t.kind === "volatile") this.print("volatile ");
      else if (t.kind === "const") this.print("const ");
      else if (t.kind === "restrict") this.print("restrict ");
      else return;
      decls.pop();
    }
  }

  private dropMods(decls: number[]): void {
    while (decls.length) {
      const k = this.type(decls[decls.length - 1]!).kind;
      if (k !== "volatile" && k !== "const" && k !== "restrict" && k !== "type_tag") return;
      decls.pop();
    }
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.print(name && !lastWasPtr ? ` ${name}` : name);
  }

  /** `decls` holds the chain from the outermost type (bottom) to the base type (top). */
  private emitTypeChain(decls: number[], fname: string, lvl: number): void {
    // no space between a pointer's `*` and what precedes it when it is the first thing
    let lastWasPtr = true;
    while (decls.length) {
      const id = decls.pop()!;
      if (id === 0) {
        this.emitMods(decls);
        this.print("void");
        lastWasPtr = false;
        continue;
      }
      const t = this.type(id);
      switch (t.kind) {
        case "int":
        case "float":
          this.emitMods(decls);
          this.print(t.name);
          break;
        case "struct":
        case "union":
          this.emitMods(decls);
          if (t.name === "") this.emitStructDef(t, lvl);
          else this.emitStructFwd(t);
          break;
        case "enum":
        case "enum64":
          this.emitMods(decls);
          if (t.name === "") this.emitEnumDef(t, lvl);
          else this.print(`enum ${this.typeName(t)}`);
          break;
        case "fwd":
          this.emitMods(decls);
          this.emitFwdDef(t);
          break;
        case "typedef":
          this.emitMods(decls);
          this.print(this.identName(t));
          break;
        case "ptr":
          this.print(lastWasPtr ? "*" : " *");
          break;
        case "volatile":
          this.print(" volatile");
          break;
        case "const":
          this.print(" const");
          break;
        case "restrict":
          this.print(" restrict");
          break;
        case "type_tag":
          this.emitMods(decls);
          this.print(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case "array": {
          // qualifiers on arrays (a GCC quirk) mean nothing: drop them
          this.dropMods(decls);
          if (decls.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.print(`[${t.length}]`);
            return;
          }
          const multidim = this.type(decls[decls.length - 1]!).kind === "array";
          if (fname && !lastWasPtr) this.print(" ");
          if (!multidim) this.print("(");
          this.emitTypeChain(decls, fname, lvl);
          if (!multidim) this.print(")");
          this.print(`[${t.length}]`);
          return;
        }
        case "func_proto": {
          this.dropMods(decls);
          if (decls.length) {
            this.print(" (");
            this.emitTypeChain(decls, fname, lvl);
            this.print(")");
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.print("(");
          const params = t.params;
          // clang encodes `f(void)` as one void parameter
          if (params.length === 0 || (params.length === 1 && params[0]!.typeId === 0)) {
            this.print("void)");
            return;
          }
          params.forEach((p, i) => {
            if (i > 0) this.print(", ");
            if (i === params.length - 1 && p.typeId === 0) this.print("...");
            else this.emitTypeDecl(p.typeId, p.name, lvl);
          });
          this.print(")");
          return;
        }
        default:
          throw this.fail(t, "unexpected kind in a declaration");
      }
      lastWasPtr = t.kind === "ptr";
    }
    this.emitName(fname, lastWasPtr);
  }
}

/** Larger gaps are not real layouts; printing them would take gigabytes. */
const MAX_PADDING_BITS = 1 << 22;

/** The smallest padding type that holds `bits`. */
function padName(bits: number, pads: readonly [string, number][]): string {
  let name = pads[0]![0];
  for (const [n, b] of pads) if (b >= bits) name = n;
  return name;
}

function nameDups(names: Map<string, number>, name: string): number {
  const n = (names.get(name) ?? 0) + 1;
  names.set(name, n);
  return n;
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

function indent(lvl: number): string {
  return "\t".repeat(lvl);
}
