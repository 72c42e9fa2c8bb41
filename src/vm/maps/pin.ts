/**
 * Pinning in the VM: a PinNamespace (one per runtime) plays bpffs. A map whose spec asks for
 * pinning (by-name, iproute2 object-ns or global-ns) reuses the map pinned at its path when that
 * map is compatible, like libbpf's map_is_reuse_compat (type, key size, value size, max entries,
 * flags, map_extra), and otherwise fails with a PinError naming the differences; when nothing is
 * pinned there, the new map is created and pinned.
 */
import { TsbpfError } from "../../errors.js";
import type { Memory } from "../memory.js";
import { createVmMap, type CreateVmMapOptions } from "./create.js";
import type { VmMap, VmMapSpec } from "./map.js";

/** A pinned map cannot be reused, or a path is taken. */
export class PinError extends TsbpfError {
  override name = "PinError";
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export class PinNamespace {
  private readonly pins = new Map<string, VmMap>();

  /** The map pinned at `path`. */
  get(path: string): VmMap | undefined {
    return this.pins.get(path);
  }
  /** Pin `map` at `path` (EEXIST-like PinError when the path is taken by another map). */
  pin(path: string, map: VmMap): void {
    const old = this.pins.get(path);
    if (old && old !== map) throw new PinError(path, `already holds map '${old.name}'`);
    this.pins.set(path, map);
  }
  /** Remove the pin; false when nothing was pinned there. */
  unpin(path: string): boolean {
    return this.pins.delete(path);
  }
  /** Every pin, path -> map. */
  entries(): [string, VmMap][] {
    return [...this.pins];
  }

  /** Why `map` cannot stand for `spec`, or undefined when it can. */
  static incompatibility(map: VmMap, spec: VmMapSpec): string | undefined {
    const diffs: string[] = [];
    const check = (what: string, have: number | bigint, want: number | bigint): void => {
      if (have !== want) diffs.push(`${what} ${have} != ${want}`);
    };
    check("type", map.type, spec.type);
    check("key size", map.keySize, spec.keySize);
    check("value size", map.valueSize, spec.valueSize);
    check("max entries", map.maxEntries, spec.maxEntries || map.maxEntries);
    check("flags", map.flags, spec.flags ?? 0);
    check("map_extra", map.spec.mapExtra ?? 0n, spec.mapExtra ?? 0n);
    return diffs.length ? diffs.join(", ") : undefined;
  }

  /**
   * The map for `spec`: when its pinning asks for it, the compatible map pinned at its path,
   * else a new map (pinned when the spec asks for it).
   */
  open(spec: VmMapSpec, memory: Memory, options: CreateVmMapOptions = {}): VmMap {
    const pinning = spec.pinning;
    if (!pinning || pinning.kind === "none") return createVmMap(spec, memory, options);
    const old = this.pins.get(pinning.path);
    if (old) {
      const why = PinNamespace.incompatibility(old, spec);
      if (why)
        throw new PinError(
          pinning.path,
          `pinned map '${old.name}' is incompatible with map '${spec.name}' (${why})`,
        );
      if (old.memory !== memory)
        throw new PinError(pinning.path, `pinned map '${old.name}' lives in another VM memory`);
      return old;
    }
    const map = createVmMap(spec, memory, options);
    this.pins.set(pinning.path, map);
    return map;
  }
}
