/**
 * The object model: what a compiled eBPF object contains, independent of where it will run.
 * Both backends (the kernel through bpf(2), the userspace VM) take an ObjectSpec: they create
 * the maps, fill the references of each program's instructions, and load the programs.
 */
import type { Btf, BtfExt, CoreRelo, FuncInfo, LineInfo } from "../btf/index.js";
import type { Instruction } from "../isa/index.js";
import type { DatasecLayout } from "./btf-fixup.js";
import type { AutoAttach, SectionFlag } from "./sections.js";
import type { AttachType, MapType, ProgramType } from "./types.js";

/**
 * What an instruction refers to outside itself; a backend patches the instruction with the
 * runtime value (map fd, BTF id, address). Instruction fields that do not depend on the backend
 * (src, imm2 offsets, call offsets) are already set.
 */
export type Reference =
  /** lddw src=MAP_FD: imm := the map's fd (or runtime handle). */
  | { readonly kind: "map"; readonly map: string; readonly mapIndex: number }
  /**
   * lddw src=MAP_VALUE: imm := the map's fd; imm2 already holds `offset` into its value.
   * Global variables (.data, .rodata, .bss, .kconfig) are map values of their section's map.
   */
  | { readonly kind: "map-value"; readonly map: string; readonly mapIndex: number; readonly offset: number }
  /** call src=KFUNC (2): imm := the kernel function's BTF id, off := its module's fd_array slot. */
  | { readonly kind: "kfunc"; readonly name: string; readonly weak: boolean }
  /**
   * lddw of a kernel variable (`extern ... __ksym`): typed (src=BTF_ID, imm := BTF id) or
   * untyped (src=IMM64, imm/imm2 := its address from kallsyms).
   */
  | { readonly kind: "ksym"; readonly name: string; readonly weak: boolean; readonly typed: boolean }
  /** A BPF-to-BPF call (src=1) or a function address (lddw src=FUNC); already resolved. */
  | { readonly kind: "func"; readonly function: string };

/** A reference of the instruction at `index` (an index into `instructions`, not a slot). */
export type InstructionReference = Reference & { readonly index: number };

/** One function linked into a program (the entry first, then the called subprograms). */
export interface LinkedFunction {
  readonly name: string;
  /** ELF section the body came from. */
  readonly section: string;
  /** First slot (8-byte unit) of the function in the linked program. */
  readonly slot: number;
  /** First instruction index of the function in `instructions`. */
  readonly index: number;
  /** Number of instructions. */
  readonly length: number;
  /** "static" or "global" (global subprograms are verified separately by the kernel). */
  readonly linkage: "static" | "global";
}

/** func_info / line_info / CO-RE record re-based to the linked program: `insnOff` is a BYTE offset (slot * 8), as in .BTF.ext; the kernel wants instruction units for func_info/line_info. */
export type LinkedFuncInfo = FuncInfo;
export type LinkedLineInfo = LineInfo;
export type LinkedCoreRelo = CoreRelo;

/** One program: an entry function with the subprograms it calls linked after it. */
export interface ProgramSpec {
  /** The entry function's name. */
  readonly name: string;
  /** ELF section, e.g. "tp/syscalls/sys_enter_openat". */
  readonly section: string;
  readonly type: ProgramType;
  /** libbpf's name of the type: "tracepoint". */
  readonly typeName: string;
  /** Expected attach type, undefined when none applies (0 goes to the kernel). */
  readonly attachType: AttachType | undefined;
  readonly attachTypeName: string | undefined;
  /** The part of the section after the prefix: "syscalls/sys_enter_openat"; "" when nothing. */
  readonly attachTo: string;
  /** The section table row's pattern ("tp+"), or undefined when the caller gave the type. */
  readonly sectionPattern: string | undefined;
  readonly flags: readonly SectionFlag[];
  readonly sleepable: boolean;
  readonly autoAttach: AutoAttach | undefined;
  /** Linked instructions: entry function, then reachable subprograms. */
  readonly instructions: readonly Instruction[];
  /** External references, sorted by instruction index. */
  readonly references: readonly InstructionReference[];
  /** The functions that make up `instructions`, in order. */
  readonly functions: readonly LinkedFunction[];
  /** Source file (from line info or the ELF STT_FILE symbol). */
  readonly sourceFile: string | undefined;
  /** From .BTF.ext, re-based to slot indexes of `instructions`; empty without .BTF.ext. */
  readonly funcInfo: readonly LinkedFuncInfo[];
  readonly lineInfo: readonly LinkedLineInfo[];
  readonly coreRelos: readonly LinkedCoreRelo[];
  /** The object's license (the kernel wants it per program). */
  readonly license: string;
}

/** How a map is pinned; the backend performs the pinning. */
export type Pinning =
  | { readonly kind: "none" }
  /** libbpf LIBBPF_PIN_BY_NAME: <pin root>/NAME, default root /sys/fs/bpf. */
  | { readonly kind: "by-name"; readonly path: string }
  /** iproute2 PIN_OBJECT_NS (1): /sys/fs/bpf/NAME. */
  | { readonly kind: "object-ns"; readonly path: string }
  /** iproute2 PIN_GLOBAL_NS (2): /sys/fs/bpf/tc/globals/NAME. */
  | { readonly kind: "global-ns"; readonly path: string };

/** An initial element of a prog array or map-in-map: slot `index` holds a program or a map. */
export type InitialValue =
  { readonly index: number; readonly program: string } | { readonly index: number; readonly map: string };

/** Where a map definition came from. */
export type MapSource = "btf" | "bpf_map_def" | "bpf_elf_map" | "data" | "kconfig" | "inner";

export interface MapSpec {
  readonly name: string;
  readonly type: MapType;
  /** libbpf's name of the type: "percpu_array". */
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly numaNode: number;
  /** map_extra (bloom filter hash count, arena address). */
  readonly mapExtra: bigint;
  readonly pinning: Pinning;
  /** The inner map template of a map-in-map. */
  readonly innerMap: MapSpec | undefined;
  /** Initial elements of prog arrays and map-in-maps (`.values = {...}`, iproute2 inner_idx). */
  readonly initialValues: readonly InitialValue[];
  /**
   * Initial bytes of the single value of a global data map (.data, .rodata, .kconfig); undefined
   * for other maps and for .bss, whose value starts as valueSize zero bytes.
   */
  readonly contents: Uint8Array | undefined;
  /** Freeze after filling (read-only for userspace too): .rodata and .kconfig. */
  readonly frozen: boolean;
  /** BTF type ids of key and value in the object's BTF (0 = none); the value is a DATASEC for global data. */
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  /** ELF section of the definition (".maps", "maps", ".data"…). */
  readonly section: string;
  readonly source: MapSource;
}

/** A global variable inside a global data section. */
export interface GlobalVariable {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** The VAR's type (not the VAR) in the object's BTF; 0 without BTF. */
  readonly btfTypeId: number;
  readonly linkage: "static" | "global";
}

/** A global data section and the map that holds it. */
export interface GlobalSpec {
  /** ".data", ".rodata", ".bss", ".rodata.str1.1", ".data.custom", ".kconfig". */
  readonly section: string;
  /** Name of its MapSpec in `maps`. */
  readonly map: string;
  readonly size: number;
  readonly readonly: boolean;
  readonly variables: readonly GlobalVariable[];
  /** The section's DATASEC id in the object's BTF, 0 without. */
  readonly btfDatasecId: number;
}

/** The kind of value a `.kconfig` extern holds (libbpf's kcfg types). */
export type KconfigKind = "bool" | "tristate" | "char" | "int" | "char-array";

/** An `extern ... __kconfig` variable and where it lives in the `.kconfig` map. */
export interface KconfigExtern {
  readonly name: string;
  readonly kind: KconfigKind;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  readonly weak: boolean;
  /** Whether a value was found (else it is zero, allowed only when weak). */
  readonly resolved: boolean;
}

/** An `extern ... __ksym` kernel function or variable. */
export interface KsymExtern {
  readonly name: string;
  readonly kind: "func" | "var";
  readonly weak: boolean;
  /** Variable with a BTF type (resolved by BTF id) rather than `const void` (resolved by address). */
  readonly typed: boolean;
  /** Its FUNC or VAR in the object's BTF, 0 without. */
  readonly btfId: number;
}

/** A parsed and linked eBPF object. */
export interface ObjectSpec {
  /** The file name given to the loader, if any. */
  readonly file: string | undefined;
  /** libbpf's object name (file base name up to the first '.'), the prefix of global data map names. */
  readonly name: string;
  readonly license: string;
  /** The `version` section (LINUX_VERSION_CODE for kernels < 5.0), undefined when absent. */
  readonly kernelVersion: number | undefined;
  readonly programs: readonly ProgramSpec[];
  readonly maps: readonly MapSpec[];
  readonly globals: readonly GlobalSpec[];
  readonly kconfig: readonly KconfigExtern[];
  readonly ksyms: readonly KsymExtern[];
  /** The object's .BTF, undefined when absent. */
  readonly btf: Btf | undefined;
  /** The object's .BTF.ext, undefined when absent. */
  readonly btfExt: BtfExt | undefined;
  /** Real sizes and offsets of the BTF DATASECs (clang leaves 0s); see prepareObjectBtf. */
  readonly datasecs: readonly DatasecLayout[];
}
