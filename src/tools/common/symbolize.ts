/**
 * Address to symbol resolution for stack traces, as BCC's and blazesym's symbolizers do it:
 * kernel addresses through /proc/kallsyms; user addresses through the mappings of the process
 * (/proc/PID/maps) and the ELF symbol tables (.symtab, else .dynsym) of each mapped file, with
 * the load bias of position-independent code taken from the PT_LOAD segments; JIT code through
 * /tmp/perf-PID.map. What cannot be resolved is `[unknown]`. Everything read is cached.
 */
import { readFileSync, statSync } from "node:fs";
import { ElfFile } from "../../elf/index.js";
import { parseProcMaps, type MapsEntry } from "../../kernel/uprobe/index.js";

/** What an address resolves to. */
export interface ResolvedSymbol {
  /** Function name, "[unknown]" when not found. */
  readonly name: string;
  /** Distance of the address from the start of the function (0 when unknown). */
  readonly offset: number;
  /** Kernel module ("kernel" for the core image) or the mapped file's base name; undefined when unknown. */
  readonly module: string | undefined;
}

/** How frames are written: BCC's `sym`, `sym+0x1f` (offset) and ` [module]` suffixes. */
export interface FormatOptions {
  readonly offset?: boolean;
  readonly module?: boolean;
}

/** One function of a sorted symbol table. */
interface Sym {
  readonly address: number;
  readonly end: number;
  readonly name: string;
}

export const UNKNOWN = "[unknown]";
const unknown: ResolvedSymbol = { name: UNKNOWN, offset: 0, module: undefined };

/** Formats a resolved frame the way BCC does with show_offset / show_module. */
export function formatSymbol(s: ResolvedSymbol, options: FormatOptions = {}): string {
  let out = s.name;
  if (options.offset && s.name !== UNKNOWN) out += `+0x${s.offset.toString(16)}`;
  if (options.module && s.module !== undefined) out += ` [${s.module}]`;
  return out;
}

/** Binary search: index of the last symbol whose address is <= addr, -1 when none. */
function floorIndex(syms: readonly { address: number }[], addr: number): number {
  let lo = 0;
  let hi = syms.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (syms[mid]!.address <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

// ---------------------------------------------------------------- kernel

interface KernelSym {
  readonly address: bigint;
  readonly name: string;
  readonly module: string;
}

/**
 * The kernel's symbols from /proc/kallsyms (text symbols only, sorted). Addresses are bigint:
 * kernel addresses do not fit in a double. A symbol ends where the next one starts.
 */
export class KernelSymbols {
  private constructor(private readonly syms: readonly KernelSym[]) {}

  /** Parses the text of /proc/kallsyms ("ffffffff81000000 T _text [module]"). */
  static parse(text: string): KernelSymbols {
    const syms: KernelSym[] = [];
    for (const line of text.split("\n")) {
      const m = /^([0-9a-fA-F]+) ([a-zA-Z]) (\S+)(?:\s+\[(\S+)\])?/.exec(line);
      if (!m) continue;
      const type = m[2]!.toLowerCase();
      if (type !== "t" && type !== "w") continue; // text (and weak) symbols: frames are code
      const address = BigInt(`0x${m[1]}`);
      if (address === 0n) continue; // kptr_restrict hides addresses
      syms.push({ address, name: m[3]!, module: m[4] ?? "kernel" });
    }
    syms.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return new KernelSymbols(syms);
  }

  /** Reads /proc/kallsyms (or `path`). */
  static load(path = "/proc/kallsyms"): KernelSymbols {
    return KernelSymbols.parse(readFileSync(path, "utf8"));
  }

  get size(): number {
    return this.syms.length;
  }

  /** The function containing `address`. */
  resolve(address: bigint): ResolvedSymbol {
    let lo = 0;
    let hi = this.syms.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.syms[mid]!.address <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const s = this.syms[found];
    if (!s) return unknown;
    // Past the last symbol of the core image or of a module: not ours to name.
    const next = this.syms[found + 1];
    if (!next && address - s.address > 0x100000n) return unknown;
    return { name: s.name, offset: Number(address - s.address), module: s.module };
  }

  /** The address of a symbol by name (first match). */
  address(name: string): bigint | undefined {
    return this.syms.find((s) => s.name === name)?.address;
  }
}

// ---------------------------------------------------------------- ELF files

const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;

/** Function symbols and loadable segments of one ELF file. */
export class ElfSymbols {
  private constructor(
    readonly path: string,
    private readonly syms: readonly Sym[],
    private readonly loads: readonly { offset: number; vaddr: number; filesz: number }[],
  ) {}

  /** Parses an ELF file's function symbols (.symtab, or .dynsym when the file is stripped). */
  static fromBytes(bytes: Uint8Array, path: string): ElfSymbols {
    const elf = ElfFile.parse(bytes, path);
    const byAddress = new Map<number, Sym>();
    const add = (
      list: readonly { name: string; value: number; size: number; type: number; sectionIndex: number }[],
    ) => {
      for (const s of list) {
        if (s.sectionIndex === SHN_UNDEF || s.value === 0 || !s.name) continue;
        if (s.type !== STT_FUNC && s.type !== STT_GNU_IFUNC) continue;
        const prev = byAddress.get(s.value);
        // Several names at one address: keep the sized, global-looking (shorter) one.
        if (prev && (prev.end > prev.address || s.size === 0) && prev.name.length <= s.name.length) continue;
        byAddress.set(s.value, { address: s.value, end: s.value + s.size, name: s.name.split("@")[0]! });
      }
    };
    add(elf.symbols);
    // .dynsym is a subset of an unstripped .symtab: read it only for stripped files.
    if (byAddress.size === 0) add(elf.dynamicSymbols);
    const syms = [...byAddress.values()].sort((a, b) => a.address - b.address);
    const loads = elf.segments
      .filter((p) => p.type === PT_LOAD)
      .map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz }));
    return new ElfSymbols(path, syms, loads);
  }

  static load(path: string): ElfSymbols {
    return ElfSymbols.fromBytes(readFileSync(path), path);
  }

  get size(): number {
    return this.syms.length;
  }

  /**
   * The ELF virtual address of byte `fileOffset` of the file: through the PT_LOAD segment that
   * maps it (vaddr - offset is the link-time bias the runtime load bias is measured against).
   */
  fileOffsetToVaddr(fileOffset: number): number {
    const seg = this.loads.find(
      (p) => fileOffset >= p.offset && fileOffset < p.offset + Math.max(p.filesz, 1),
    );
    if (!seg) return fileOffset;
    return fileOffset - seg.offset + seg.vaddr;
  }

  /** The function containing ELF virtual address `vaddr`. */
  resolveVaddr(vaddr: number): { name: string; offset: number } | undefined {
    const i = floorIndex(this.syms, vaddr);
    const s = this.syms[i];
    if (!s) return undefined;
    // Sized symbols must contain the address; unsized ones reach to the next symbol.
    if (s.end > s.address ? vaddr >= s.end : false) return undefined;
    return { name: s.name, offset: vaddr - s.address };
  }
}

// ---------------------------------------------------------------- processes

/** JIT symbols of /tmp/perf-PID.map ("START SIZE name", hex). */
function parsePerfMap(text: string): Sym[] {
  const out: Sym[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-Fx]+) ([0-9a-fA-Fx]+) (.+)$/.exec(line);
    if (!m) continue;
    const address = Number.parseInt(m[1]!.replace(/^0x/, ""), 16);
    const size = Number.parseInt(m[2]!.replace(/^0x/, ""), 16);
    out.push({ address, end: address + size, name: m[3]! });
  }
  return out.sort((a, b) => a.address - b.address);
}

const baseName = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

/** The address space of one process: its file mappings, resolved through each file's symbols. */
export class ProcessSymbols {
  private perfMap: Sym[] | undefined;

  constructor(
    readonly pid: number,
    private readonly maps: readonly MapsEntry[],
    private readonly files: (path: string, pid: number) => ElfSymbols | undefined,
  ) {}

  /** The mapping containing `address`. */
  mapping(address: bigint): MapsEntry | undefined {
    return this.maps.find((m) => address >= m.start && address < m.end);
  }

  resolve(address: bigint): ResolvedSymbol {
    const m = this.mapping(address);
    if (m && m.path.startsWith("/")) {
      const elf = this.files(m.path, this.pid);
      if (!elf) return { ...unknown, module: baseName(m.path) };
      const fileOffset = Number(address - m.start + m.offset);
      const hit = elf.resolveVaddr(elf.fileOffsetToVaddr(fileOffset));
      return hit ? { ...hit, module: baseName(m.path) } : { ...unknown, module: baseName(m.path) };
    }
    // Anonymous executable memory: a JIT that writes /tmp/perf-PID.map (node --perf-basic-prof).
    this.perfMap ??= this.readPerfMap();
    const i = floorIndex(this.perfMap, Number(address));
    const s = this.perfMap[i];
    if (s && Number(address) < s.end)
      return { name: s.name, offset: Number(address) - s.address, module: "perf-map" };
    return unknown;
  }

  private readPerfMap(): Sym[] {
    try {
      return parsePerfMap(readFileSync(`/tmp/perf-${this.pid}.map`, "utf8"));
    } catch {
      return [];
    }
  }
}

/**
 * Symbolizes kernel and user addresses with caches: kallsyms is read once, each ELF file once
 * (keyed by path, device and inode), each process's maps once (call forget(pid) to re-read).
 */
export class Symbolizer {
  #kernel: KernelSymbols | undefined;
  readonly #files = new Map<string, ElfSymbols | undefined>();
  readonly #processes = new Map<number, ProcessSymbols | undefined>();

  constructor(private readonly options: { kallsyms?: string; procRoot?: string } = {}) {}

  /** The kernel's symbol table (read on first use). */
  get kernelSymbols(): KernelSymbols {
    this.#kernel ??= KernelSymbols.load(this.options.kallsyms);
    return this.#kernel;
  }

  /** Resolves a kernel address. */
  kernel(address: bigint): ResolvedSymbol {
    return this.kernelSymbols.resolve(address);
  }

  /** Resolves a user address of process `pid` (`[unknown]` when the process is gone). */
  user(pid: number, address: bigint): ResolvedSymbol {
    return this.process(pid)?.resolve(address) ?? unknown;
  }

  /** The address space of `pid`, read from /proc on first use; undefined when it has exited. */
  process(pid: number): ProcessSymbols | undefined {
    if (this.#processes.has(pid)) return this.#processes.get(pid);
    let p: ProcessSymbols | undefined;
    try {
      const text = readFileSync(`${this.procRoot}/${pid}/maps`, "utf8");
      p = new ProcessSymbols(pid, parseProcMaps(text), (path, owner) => this.file(path, owner));
    } catch {
      p = undefined;
    }
    this.#processes.set(pid, p);
    return p;
  }

  /** Reads the maps of `pid` again next time (after exec or dlopen). */
  forget(pid: number): void {
    this.#processes.delete(pid);
  }

  /** Reads the maps of these processes now, while they still exist. */
  preload(pids: Iterable<number>): void {
    for (const pid of pids) this.process(pid);
  }

  private get procRoot(): string {
    return this.options.procRoot ?? "/proc";
  }

  /** An ELF file's symbols; through /proc/PID/root so files of other mount namespaces are found. */
  private file(path: string, pid: number): ElfSymbols | undefined {
    const candidates = [`${this.procRoot}/${pid}/root${path}`, path];
    for (const candidate of candidates) {
      let key: string;
      try {
        const st = statSync(candidate);
        key = `${st.dev}:${st.ino}`;
      } catch {
        continue;
      }
      if (this.#files.has(key)) return this.#files.get(key);
      let syms: ElfSymbols | undefined;
      try {
        syms = ElfSymbols.load(candidate);
      } catch {
        syms = undefined; // not an ELF file (or unreadable): its frames stay [unknown]
      }
      this.#files.set(key, syms);
      return syms;
    }
    return undefined;
  }
}
