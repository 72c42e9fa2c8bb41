/**
 * What a program refers to in the running kernel, found the way libbpf finds it: kfuncs and
 * typed ksyms by name in vmlinux BTF (then in module BTF), untyped ksyms in /proc/kallsyms,
 * and the attach targets of BTF-attached programs (tp_btf: typedef `btf_trace_<name>`,
 * fentry/fexit/fmod_ret: the function, lsm: `bpf_lsm_<hook>`, iter: `bpf_iter_<name>`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { KERNEL_BTF_DIR, loadKernelBtf, loadModuleBtf, type Btf } from "../../btf/index.js";
import type { TypeKind } from "../../btf/index.js";
import { NotSupportedError, TsbpfError } from "../../errors.js";
import { AttachType, type ProgramSpec } from "../../object/index.js";
import { btfGetFdById, btfGetNextId, closeFd, getBtfInfo } from "../sys/index.js";

/** A kernel BTF id and the module that holds it (undefined: vmlinux). */
export interface KernelBtfId {
  readonly id: number;
  readonly module: string | undefined;
}

/** Looks kernel things up, caching vmlinux/module BTF and kallsyms for one collection load. */
export class KernelSymbols {
  #vmlinux: Btf | undefined;
  #modules: Map<string, Btf | undefined> | undefined;
  #kallsyms: Map<string, bigint> | undefined;
  #moduleFds = new Map<string, number>();

  constructor(private readonly vmlinuxPath?: string) {}

  get vmlinux(): Btf {
    return (this.#vmlinux ??= loadKernelBtf(this.vmlinuxPath));
  }

  /** The id of a type named `name` of `kind` in vmlinux, then in the modules' BTF. */
  find(name: string, kind: TypeKind): KernelBtfId | undefined {
    const ids = this.vmlinux.idsByName(name).filter((id) => this.vmlinux.kindOf(id) === kind);
    if (ids.length > 0) return { id: ids[0]!, module: undefined };
    for (const [module, btf] of this.modules()) {
      if (!btf) continue;
      const own = btf.idsByName(name).filter((id) => id >= btf.firstId && btf.kindOf(id) === kind);
      if (own.length > 0) return { id: own[0]!, module };
    }
    return undefined;
  }

  private modules(): Map<string, Btf | undefined> {
    if (this.#modules) return this.#modules;
    this.#modules = new Map();
    let names: string[] = [];
    try {
      names = readdirSync(KERNEL_BTF_DIR).filter((n) => n !== "vmlinux");
    } catch {
      names = [];
    }
    for (const n of names) {
      try {
        this.#modules.set(n, loadModuleBtf(n, this.vmlinux));
      } catch {
        this.#modules.set(n, undefined);
      }
    }
    return this.#modules;
  }

  /** An fd of a module's BTF object (BTF_GET_FD_BY_ID over the loaded BTF objects), kept open until close(). */
  moduleBtfFd(module: string): number {
    const known = this.#moduleFds.get(module);
    if (known !== undefined) return known;
    for (let id = btfGetNextId(0); id !== undefined; id = btfGetNextId(id)) {
      const fd = btfGetFdById(id);
      const info = getBtfInfo(fd);
      if (info.name === module && info.kernelBtf) {
        this.#moduleFds.set(module, fd);
        return fd;
      }
      closeFd(fd);
    }
    throw new TsbpfError(`kernel BTF of module '${module}' is not loaded`);
  }

  /** The address of a kernel symbol from /proc/kallsyms (0 when hidden by kptr_restrict). */
  address(name: string): bigint | undefined {
    if (!this.#kallsyms) {
      this.#kallsyms = new Map();
      for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
        const [addr, , sym] = line.split(/\s+/);
        if (addr && sym && !this.#kallsyms.has(sym)) this.#kallsyms.set(sym, BigInt(`0x${addr}`));
      }
    }
    return this.#kallsyms.get(name);
  }

  /** Closes the module BTF fds opened by moduleBtfFd. */
  close(): void {
    for (const fd of this.#moduleFds.values()) closeFd(fd);
    this.#moduleFds.clear();
  }
}

/** How to find a BTF-attached program's target: the name to look up and its kind. */
const ATTACH_TARGETS: Partial<
  Record<AttachType, (to: string) => { name: string; kind: TypeKind; what: string }>
> = {
  [AttachType.TRACE_RAW_TP]: (to) => ({
    name: `btf_trace_${to}`,
    kind: "typedef",
    what: `tracepoint '${to}'`,
  }),
  [AttachType.TRACE_FENTRY]: (to) => ({ name: to, kind: "func", what: `function '${to}'` }),
  [AttachType.TRACE_FEXIT]: (to) => ({ name: to, kind: "func", what: `function '${to}'` }),
  [AttachType.MODIFY_RETURN]: (to) => ({ name: to, kind: "func", what: `function '${to}'` }),
  [AttachType.LSM_MAC]: (to) => ({ name: `bpf_lsm_${to}`, kind: "func", what: `LSM hook '${to}'` }),
  [AttachType.LSM_CGROUP]: (to) => ({ name: `bpf_lsm_${to}`, kind: "func", what: `LSM hook '${to}'` }),
  [AttachType.TRACE_ITER]: (to) => ({ name: `bpf_iter_${to}`, kind: "func", what: `iterator '${to}'` }),
};

/** Attach types whose programs run through a BPF trampoline. */
export const TRAMPOLINE_ATTACH_TYPES: ReadonlySet<AttachType | undefined> = new Set([
  AttachType.TRACE_FENTRY,
  AttachType.TRACE_FEXIT,
  AttachType.MODIFY_RETURN,
  AttachType.LSM_MAC,
  AttachType.LSM_CGROUP,
]);

/** The attach_btf_id (and module) a BTF-attached program needs at load, undefined for others. */
export function attachTarget(prog: ProgramSpec, symbols: KernelSymbols): KernelBtfId | undefined {
  if (!prog.flags.includes("attach-btf") || prog.attachType === undefined) return undefined;
  const target = ATTACH_TARGETS[prog.attachType];
  if (!target) return undefined; // freplace / struct_ops: the target comes from the caller
  // "fentry/x" with a sleepable ".s" or the iterator's "iter/x" all end in the target's name.
  const to = prog.attachTo;
  if (to === "")
    throw new TsbpfError(`program '${prog.name}': section '${prog.section}' names no attach target`);
  const { name, kind, what } = target(to);
  let found: KernelBtfId | undefined;
  try {
    found = symbols.find(name, kind);
  } catch (e) {
    if (e instanceof NotSupportedError)
      throw new NotSupportedError(
        "kernel BTF",
        `program '${prog.name}' (${prog.section}) needs it to find ${what}: ${e.message}`,
        { cause: e },
      );
    throw e;
  }
  if (!found)
    throw new TsbpfError(
      `program '${prog.name}' (${prog.section}): ${what} is not in the kernel's BTF (no ${kind} '${name}')`,
    );
  return found;
}
