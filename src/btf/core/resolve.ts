/**
 * Resolving a program's CO-RE relocations against a target BTF (the running kernel's, by
 * default the caller passes loadKernelBtf()), as libbpf's bpf_core_calc_relo_insn and
 * bpf_core_patch_insn do:
 *   1. read the access string through the local type (spec.ts);
 *   2. find the target types with the same essential name (candidates.ts) and match the access
 *      in each (target.ts); every matching candidate must give the same answer;
 *   3. compute the value (calc.ts) and patch the instruction (patch.ts); what the target lacks
 *      poisons the instruction, which fails only if it runs (existence checks guard such code).
 */
import { TsbpfError } from "../../errors.js";
import { slotIndexes, type Instruction } from "../../isa/index.js";
import type { Btf } from "../Btf.js";
import { CORE_RELO_KIND_NAMES, CoreReloKind, type CoreRelo, type LineInfo } from "../ext.js";
import type { BtfType } from "../types.js";
import { calcRelocation, type CoreReloValue } from "./calc.js";
import { findCandidates, type CoreCandidate } from "./candidates.js";
import { accessExpression, describeType, formatCoreSpec } from "./format.js";
import { essentialName } from "./names.js";
import { patchInstruction } from "./patch.js";
import { CoreSpecError, parseCoreSpec, type CoreSpec } from "./spec.js";
import { matchSpec } from "./target.js";

/** The source line of an instruction, from line_info. */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The text of the line, trimmed. */
  readonly text: string;
}

export interface ResolveCoreOptions {
  /** The object's BTF (the types the relocations name). */
  readonly localBtf: Btf;
  /** The BTF to relocate against: the running kernel's (loadKernelBtf()) or any BTF file. */
  readonly targetBtf: Btf;
  /** Module BTFs (split on targetBtf), searched only for types the kernel's BTF lacks, like libbpf. */
  readonly moduleBtfs?: readonly Btf[];
  /** The program's relocations; `insnOff` is a byte offset into `instructions` (as in ProgramSpec.coreRelos). */
  readonly relos: readonly CoreRelo[];
  readonly instructions: readonly Instruction[];
  /** For messages. */
  readonly programName: string;
  /** The program's line info (byte offsets like `relos`), to name source lines in messages. */
  readonly lineInfo?: readonly LineInfo[];
}

/** What one relocation resolved to. */
export interface CoreRelocationResult {
  /** Index of the relocation in `relos`. */
  readonly relocation: number;
  /** Index of the patched instruction in `instructions`. */
  readonly instruction: number;
  /** Its slot (8-byte unit): the instruction number libbpf and the verifier print. */
  readonly slot: number;
  readonly kind: CoreReloKind;
  /** libbpf's name of the kind: "byte_off", "field_exists"… */
  readonly kindName: string;
  /** The local type the access starts from: id and C name. */
  readonly localTypeId: number;
  readonly localType: string;
  /** C-like access: "struct task_struct.real_parent", "enum bpf_map_type::BPF_MAP_TYPE_RINGBUF". */
  readonly access: string;
  /** libbpf's spec format of the local and target specs: "[5] struct task_struct.pid (0:91 @ offset 2456)". */
  readonly localSpec: string;
  readonly targetSpec: string | undefined;
  /** The target type that matched (the first, when several agree); undefined when none did. */
  readonly target: { readonly btf: Btf; readonly typeId: number } | undefined;
  /** The value clang compiled in, and the value for the target. */
  readonly localValue: bigint;
  readonly value: bigint;
  /** The instruction was replaced by a poison instruction. */
  readonly poisoned: boolean;
  /** Why the target did not match, when it did not (also set when the result is still valid, e.g. field_exists = 0). */
  readonly missing: string | undefined;
  readonly source: SourceLine | undefined;
  /** For a poisoned instruction: the error to report if it ever runs. */
  readonly error: CoreRelocationError | undefined;
}

export interface ResolvedCore {
  /** A patched copy of the instructions (same length and slot layout). */
  readonly instructions: Instruction[];
  readonly results: CoreRelocationResult[];
  /** The results whose instruction was poisoned. */
  readonly poisoned: CoreRelocationResult[];
}

/** Details of a failed relocation. */
export interface CoreRelocationErrorDetails {
  readonly program: string;
  readonly relocation: number;
  readonly slot: number;
  readonly kindName: string;
  readonly access: string | undefined;
  readonly source: SourceLine | undefined;
  /** What is wrong: the missing type/field/enumerator or the bad instruction. */
  readonly reason: string;
}

/**
 * A CO-RE relocation that cannot be applied (at load), or a poisoned instruction that ran.
 * The message names the program, the source line, the C access and what is missing:
 * `prog 'p': CO-RE relocation #2 <field_exists> at insn 23 (core.bpf.c:31 "if (...)"): struct task_struct.x: no field 'x' in struct task_struct`.
 */
export class CoreRelocationError extends TsbpfError {
  override name = "CoreRelocationError";
  constructor(
    readonly details: CoreRelocationErrorDetails,
    options?: { cause?: unknown },
  ) {
    const d = details;
    const where = d.source ? ` (${d.source.file}:${d.source.line} "${d.source.text}")` : "";
    super(
      `prog '${d.program}': CO-RE relocation #${d.relocation} <${d.kindName}> at insn ${d.slot}${where}: ` +
        `${d.access ? `${d.access}: ` : ""}${d.reason}`,
      options,
    );
  }
}

const MAX_SOURCE_TEXT = 100;

/** The line_info record covering byte offset `insnOff` (the last one at or before it). */
export function sourceLineAt(
  lineInfo: readonly LineInfo[] | undefined,
  insnOff: number,
): SourceLine | undefined {
  let best: LineInfo | undefined;
  for (const l of lineInfo ?? []) if (l.insnOff <= insnOff && (!best || l.insnOff >= best.insnOff)) best = l;
  if (!best) return undefined;
  let text = best.line.trim().replace(/\s+/g, " ");
  if (text.length > MAX_SOURCE_TEXT) text = `${text.slice(0, MAX_SOURCE_TEXT - 3)}...`;
  return { file: best.fileName, line: best.lineNumber, column: best.column, text };
}

/** Resolves and applies every CO-RE relocation of one program. */
export function resolveCoreRelocations(options: ResolveCoreOptions): ResolvedCore {
  const { localBtf, targetBtf, relos, programName } = options;
  const instructions = options.instructions.slice();
  const slots = slotIndexes(instructions);
  const indexOfSlot = new Map<number, number>();
  slots.forEach((s, i) => i < instructions.length && indexOfSlot.set(s, i));
  const candidateCache = new Map<number, CoreCandidate[]>();
  const results: CoreRelocationResult[] = [];

  relos.forEach((relo, n) => {
    const kindName = CORE_RELO_KIND_NAMES[relo.kind] ?? `kind ${relo.kind}`;
    const slot = relo.insnOff / 8;
    const source = sourceLineAt(options.lineInfo, relo.insnOff);
    let access: string | undefined;
    const fail = (reason: string, cause?: unknown): CoreRelocationError =>
      new CoreRelocationError(
        { program: programName, relocation: n, slot, kindName, access, source, reason },
        cause === undefined ? undefined : { cause },
      );

    const index = indexOfSlot.get(slot);
    if (!Number.isInteger(slot) || index === undefined) {
      throw fail(
        `instruction offset ${relo.insnOff} is not the start of an instruction (program has ${slots[instructions.length]} slots)`,
      );
    }
    let resolved: {
      value: CoreReloValue;
      local: CoreSpec;
      target: CoreSpec | undefined;
      missing: string | undefined;
    };
    try {
      const local = parseCoreSpec(localBtf, relo.typeId, relo.accessStr, relo.kind);
      access = accessExpression(local);
      resolved = { ...resolveOne(local, targetBtf, options.moduleBtfs ?? [], candidateCache), local };
    } catch (e) {
      if (e instanceof CoreSpecError) throw fail(e.message, e);
      throw e;
    }
    const { value, local, target, missing } = resolved;
    const patched = patchInstruction(instructions[index]!, value);
    if (!patched.ok) throw fail(`cannot patch insn ${slot}: ${patched.reason}`);
    instructions[index] = patched.insn;
    const why = patched.note ?? missing;
    const error = patched.poisoned
      ? fail(
          why
            ? `${why} (the instruction was poisoned and ran)`
            : `not found in ${targetName(targetBtf)} (the instruction was poisoned and ran)`,
        )
      : undefined;
    const localType = localBtf.typeById(relo.typeId);
    results.push({
      relocation: n,
      instruction: index,
      slot,
      kind: relo.kind,
      kindName,
      localTypeId: relo.typeId,
      localType: describeType(localType),
      access: access!,
      localSpec: formatCoreSpec(local),
      targetSpec: target && formatCoreSpec(target),
      target: target && { btf: target.btf, typeId: target.rootTypeId },
      localValue: value.localValue,
      value: patched.poisoned ? 0n : value.targetValue,
      poisoned: patched.poisoned,
      missing: why,
      source,
      error,
    });
  });
  return { instructions, results, poisoned: results.filter((r) => r.poisoned) };
}

function targetName(btf: Btf): string {
  return btf.file ?? "the target BTF";
}

/** bpf_core_calc_relo_insn: one relocation against every candidate. */
function resolveOne(
  local: CoreSpec,
  targetBtf: Btf,
  modules: readonly Btf[],
  cache: Map<number, CoreCandidate[]>,
): { value: CoreReloValue; target: CoreSpec | undefined; missing: string | undefined } {
  if (local.kind === CoreReloKind.TypeIdLocal)
    return { value: calcRelocation(local, undefined), target: undefined, missing: undefined };
  const localType = local.btf.typeById(local.rootTypeId);
  if (localType.name === "") {
    throw new CoreSpecError(
      `relocation on an anonymous ${localType.kind} is not supported (the type needs a name)`,
    );
  }
  let cands = cache.get(local.rootTypeId);
  if (!cands) {
    cands = findCandidates(localType, targetBtf, modules);
    cache.set(local.rootTypeId, cands);
  }
  let chosen: { value: CoreReloValue; spec: CoreSpec } | undefined;
  const matched: CoreCandidate[] = [];
  const misses: string[] = [];
  for (const c of cands) {
    const m = matchSpec(local, c.btf, c.type.id);
    if (!m.ok) {
      if (!misses.includes(m.reason)) misses.push(m.reason);
      continue;
    }
    const value = calcRelocation(local, m.spec);
    if (!chosen) chosen = { value, spec: m.spec };
    else if (m.spec.bitOffset !== chosen.spec.bitOffset) {
      throw new CoreSpecError(
        `field offset ambiguity: ${formatCoreSpec(chosen.spec)} and ${formatCoreSpec(m.spec)} both match with different offsets`,
      );
    } else if (value.poison !== chosen.value.poison || value.targetValue !== chosen.value.targetValue) {
      const show = (v: CoreReloValue): string => (v.poison ? "failure" : `${v.targetValue}`);
      throw new CoreSpecError(
        `relocation decision ambiguity: ${formatCoreSpec(chosen.spec)} gives ${show(chosen.value)}, ${formatCoreSpec(m.spec)} gives ${show(value)}`,
      );
    }
    matched.push(c);
  }
  if (chosen) {
    // later relocations of the same local type only consider the candidates that matched
    cache.set(local.rootTypeId, matched);
    return { value: chosen.value, target: chosen.spec, missing: undefined };
  }
  const missing =
    cands.length === 0
      ? `no ${kindWord(localType)} named '${essentialName(localType.name)}' in ${targetName(targetBtf)}`
      : misses.join("; ");
  return { value: calcRelocation(local, undefined), target: undefined, missing };
}

function kindWord(t: BtfType): string {
  return t.kind === "enum64" ? "enum" : t.kind === "func_proto" ? "function prototype" : t.kind;
}
