/**
 * Loading an ObjectSpec into a VmRuntime: maps first (global data and .kconfig maps start with
 * their section's bytes; .rodata/.kconfig are frozen), then each program: CO-RE relocations,
 * context access conversion, map and map-value references (lddw) to handles and value addresses,
 * kfunc calls by name; last, prog arrays get their `.values` programs. A program that cannot be
 * loaded does not stop the others: its error is thrown when it is asked for.
 */
import { resolveCoreRelocations, isPoisonedInstruction, CoreRelocationError } from "../../btf/index.js";
import { NotSupportedError, TsbpfError } from "../../errors.js";
import type { InstructionReference, ObjectSpec, ProgramSpec } from "../../object/spec.js";
import { programTypeName } from "../../object/types.js";
import { RUNTIME_KFUNCS } from "../helpers/index.js";
import { createVmMap } from "../maps/create.js";
import type { VmMap } from "../maps/map.js";
import { builtinProgramType } from "../program-types/index.js";
import type { ProgramTypeDef } from "../program-types/types.js";
import { VmProgram } from "./program.js";
import type { VmRuntime } from "./runtime.js";

export interface LoadVmObjectOptions {
  /** Program type by program name, for programs whose section does not give one the VM has. */
  readonly programTypes?: Readonly<Record<string, ProgramTypeDef>>;
}

/** A program that could not be loaded, and why. */
export class ProgramUnavailableError extends TsbpfError {
  override name = "ProgramUnavailableError";
}

export class VmObject {
  /** Maps by their object name ("counts", "xdp_prog.bss"). */
  readonly maps: ReadonlyMap<string, VmMap>;
  private readonly loaded = new Map<string, VmProgram>();
  private readonly failed = new Map<string, Error>();

  /** @internal use VmRuntime.loadObject */
  constructor(
    readonly spec: ObjectSpec,
    maps: Map<string, VmMap>,
  ) {
    this.maps = maps;
  }

  /** @internal */
  _add(name: string, program: VmProgram | Error): void {
    if (program instanceof VmProgram) this.loaded.set(name, program);
    else this.failed.set(name, program);
  }

  /** Program names (entry functions), in object order. */
  get programNames(): string[] {
    return this.spec.programs.map((p) => p.name);
  }

  /**
   * A program by function name, or by section name when one program has it. Throws when there is
   * no such program, or when it could not be loaded (with the reason).
   */
  program(name: string): VmProgram {
    const spec = this.programSpec(name);
    const p = this.loaded.get(spec.name);
    if (p) return p;
    const err = this.failed.get(spec.name);
    throw err ?? new ProgramUnavailableError(`program '${spec.name}' was not loaded`);
  }

  /** The ProgramSpec named `name` (function or unique section name). */
  programSpec(name: string): ProgramSpec {
    const byName = this.spec.programs.find((p) => p.name === name);
    if (byName) return byName;
    const bySection = this.spec.programs.filter((p) => p.section === name);
    if (bySection.length === 1) return bySection[0]!;
    const known = this.spec.programs.map((p) => `${p.name} (${p.section})`).join(", ") || "none";
    if (bySection.length > 1)
      throw new TsbpfError(
        `section '${name}' has ${bySection.length} programs: name one of ${bySection.map((p) => p.name).join(", ")}`,
      );
    throw new TsbpfError(`no program '${name}' in ${this.spec.file ?? this.spec.name} (programs: ${known})`);
  }

  /** A map by object name, or a global data map by its section (".bss", ".data", ".rodata"…). */
  map(name: string): VmMap {
    const m =
      this.maps.get(name) ?? this.maps.get(this.spec.globals.find((g) => g.section === name)?.map ?? "");
    if (!m)
      throw new TsbpfError(
        `no map '${name}' in ${this.spec.file ?? this.spec.name} (maps: ${[...this.maps.keys()].join(", ") || "none"})`,
      );
    return m;
  }

  /** The name a map is shown under: its section for global data (".bss"), else its name. */
  displayName(map: VmMap): string {
    return this.spec.globals.find((g) => g.map === map.name)?.section ?? map.name;
  }
}

/** Load `spec` into `runtime` (see the file comment). */
export function loadVmObject(
  runtime: VmRuntime,
  spec: ObjectSpec,
  options: LoadVmObjectOptions = {},
): VmObject {
  const maps = new Map<string, VmMap>();
  const byIndex: VmMap[] = [];
  for (const m of spec.maps) {
    const map = createVmMap(m, runtime.memory, {
      cpus: runtime.env.cpus,
      btf: spec.btf,
      datasecs: spec.datasecs,
    });
    if (m.frozen) map.freeze();
    maps.set(m.name, map);
    byIndex.push(map);
  }
  const object = new VmObject(spec, maps);
  for (const p of spec.programs) {
    try {
      object._add(p.name, loadOne(runtime, spec, p, byIndex, options));
    } catch (e) {
      object._add(p.name, e instanceof Error ? e : new Error(String(e)));
    }
  }
  for (const m of spec.maps) {
    if (m.initialValues.length === 0) continue;
    const map = maps.get(m.name)!;
    for (const v of m.initialValues) {
      if ("program" in v) {
        const target = (() => {
          try {
            return object.program(v.program);
          } catch {
            return undefined; // a program the VM cannot load leaves its slot empty
          }
        })();
        const slots = map as unknown as { setProgram?: (i: number, p: unknown) => void };
        if (target && slots.setProgram) slots.setProgram(v.index, target.interpreter);
      } else {
        const inner = maps.get(v.map);
        if (!inner) throw new TsbpfError(`map '${m.name}': initial value names unknown map '${v.map}'`);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, v.index, true);
        const fd = new Uint8Array(4);
        new DataView(fd.buffer).setUint32(0, Number(inner.handle >> 32n), true);
        const withInner = map as unknown as { setInner?: (i: number, inner: VmMap) => void };
        if (withInner.setInner) withInner.setInner(v.index, inner);
        else map.update(key, fd);
      }
    }
  }
  return object;
}

function loadOne(
  runtime: VmRuntime,
  spec: ObjectSpec,
  p: ProgramSpec,
  maps: readonly VmMap[],
  options: LoadVmObjectOptions,
): VmProgram {
  const type = options.programTypes?.[p.name] ?? builtinProgramType(p.type);
  if (!type)
    throw new NotSupportedError(
      `${programTypeName(p.type)} programs in the VM`,
      `program '${p.name}' (section ${p.section})`,
    );
  let instructions = p.instructions;
  const registry = runtime.helpersFor(type);
  // CO-RE relocations the target cannot satisfy poison their instruction (libbpf's rule): the
  // program loads, and faults with the relocation's error only if the instruction runs.
  const poisoned = new Map<number, Error>();
  if (p.coreRelos.length > 0 && spec.btf) {
    const core = resolveCoreRelocations({
      localBtf: spec.btf,
      targetBtf: runtime.targetBtf() ?? spec.btf,
      relos: p.coreRelos,
      instructions,
      programName: p.name,
      lineInfo: p.lineInfo,
    });
    instructions = core.instructions;
    for (const r of core.poisoned)
      if (isPoisonedInstruction(instructions[r.instruction]!))
        poisoned.set(
          r.instruction,
          r.error ??
            new CoreRelocationError({
              program: p.name,
              relocation: r.relocation,
              slot: r.slot,
              kindName: r.kindName,
              access: r.access,
              source: r.source,
              reason: "the instruction was poisoned and ran",
            }),
        );
  }
  const refs = new Map<number, InstructionReference>(p.references.map((r) => [r.index, r]));
  const mapOf = (index: number): VmMap => {
    const m = maps[index];
    if (!m)
      throw new TsbpfError(`program '${p.name}': reference to map #${index}, the object has ${maps.length}`);
    return m;
  };
  return new VmProgram(
    {
      name: p.name,
      type,
      instructions,
      registry,
      kfuncs: RUNTIME_KFUNCS,
      resolvePseudo: (_insn, index) => {
        const r = refs.get(index);
        if (r?.kind === "map") return mapOf(r.mapIndex).handle;
        if (r?.kind === "map-value") {
          const address = mapOf(r.mapIndex).valueAddress(0, r.offset);
          if (address === undefined)
            throw new TsbpfError(`program '${p.name}': map '${r.map}' has no value to point into`);
          return address;
        }
        return undefined;
      },
      kfuncName: (index) => {
        const r = refs.get(index);
        return r?.kind === "kfunc" ? r.name : undefined;
      },
      ...(runtime.budget !== undefined ? { budget: runtime.budget } : {}),
      poisoned,
    },
    runtime.memory,
    runtime.env,
  );
}
