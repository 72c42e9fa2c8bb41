/**
 * VmRuntime: the userspace runtime. One address space (Memory) holds the maps and the runs of
 * every program loaded into it; one RuntimeEnv (CPU, current task, clocks, random, trace sink)
 * is what helpers see. Load compiled objects with `loadObject` (maps created, global data and
 * .kconfig filled, CO-RE applied, references resolved, prog arrays initialised) or raw
 * instructions of any program type, built-in or custom, with `loadProgram`.
 */
import type { Btf } from "../../btf/index.js";
import { loadKernelBtf } from "../../btf/index.js";
import type { Instruction } from "../../isa/instruction.js";
import type { ObjectSpec } from "../../object/spec.js";
import { helperRegistryFor, RUNTIME_KFUNCS } from "../helpers/index.js";
import type { HelperRegistry } from "../helper-registry.js";
import { memoryMapTable } from "../maps/map.js";
import { Memory } from "../memory.js";
import type { ProgramTypeDef } from "../program-types/types.js";
import { RuntimeEnv, type RuntimeEnvOptions } from "./env.js";
import { Hook } from "./hook.js";
import { createTaskStruct } from "./task-struct.js";
import { loadVmObject, type LoadVmObjectOptions, type VmObject } from "./object.js";
import { VmProgram } from "./program.js";

export interface VmRuntimeOptions extends RuntimeEnvOptions {
  /** Instruction budget of each run (default the interpreter's, 1,000,000). */
  readonly budget?: number;
  /**
   * BTF that CO-RE relocations resolve against: default the running kernel's
   * (/sys/kernel/btf/vmlinux) when readable, else the object's own (values as compiled).
   */
  readonly targetBtf?: Btf;
}

export interface LoadProgramOptions {
  readonly name?: string;
  readonly type: ProgramTypeDef;
}

export class VmRuntime {
  readonly memory = new Memory();
  readonly env: RuntimeEnv;
  readonly budget: number | undefined;
  private readonly registries = new Map<ProgramTypeDef, HelperRegistry>();
  private readonly hooks = new Map<string, Hook>();
  private targetBtfCache: Btf | null | undefined;

  constructor(private readonly options: VmRuntimeOptions = {}) {
    this.env = new RuntimeEnv(memoryMapTable(this.memory), options);
    this.budget = options.budget;
    this.targetBtfCache = options.targetBtf;
    this.env.taskStructFactory = (task) => {
      const btf = this.targetBtf();
      return btf ? (createTaskStruct(this.memory, btf, task)?.task.base ?? 0n) : 0n;
    };
  }

  /** The helpers a program type gets (cached per type). */
  helpersFor(type: ProgramTypeDef): HelperRegistry {
    let r = this.registries.get(type);
    if (!r) this.registries.set(type, (r = helperRegistryFor(type.helpers)));
    return r;
  }

  /** The BTF CO-RE relocations resolve against, or undefined to use each object's own. */
  targetBtf(): Btf | undefined {
    if (this.targetBtfCache === undefined) {
      try {
        this.targetBtfCache = loadKernelBtf();
      } catch {
        this.targetBtfCache = null;
      }
    }
    return this.targetBtfCache ?? undefined;
  }

  /** Load raw instructions as a program of `type` (no maps or other references). Throws ProgramLoadError. */
  loadProgram(instructions: readonly Instruction[], options: LoadProgramOptions): VmProgram {
    return new VmProgram(
      {
        name: options.name ?? options.type.name,
        type: options.type,
        instructions,
        registry: this.helpersFor(options.type),
        kfuncs: RUNTIME_KFUNCS,
        ...(this.budget !== undefined ? { budget: this.budget } : {}),
      },
      this.memory,
      this.env,
    );
  }

  /** Load a parsed object: maps, global data, programs. Throws TsbpfError subclasses naming the culprit. */
  loadObject(spec: ObjectSpec, options: LoadVmObjectOptions = {}): VmObject {
    return loadVmObject(this, spec, options);
  }

  /** The named attach point `name` (created on first use) for programs of `type`. */
  hook(name: string, type: ProgramTypeDef): Hook {
    let h = this.hooks.get(name);
    if (!h) this.hooks.set(name, (h = new Hook(name, type)));
    else if (h.type !== type)
      throw new TypeError(`hook '${name}' is for ${h.type.name} programs, not ${type.name}`);
    return h;
  }

  /** @internal */
  get runtimeOptions(): VmRuntimeOptions {
    return this.options;
  }
}
