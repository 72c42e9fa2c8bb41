/**
 * Creating the maps of an object (libbpf's bpf_object__create_maps): BTF key/value types where
 * the map type allows them (retrying without BTF like libbpf), inner map templates, initial
 * contents of global data (then freezing .rodata/.kconfig), and pinning: libbpf's PIN_BY_NAME and
 * iproute2's object/global namespaces reuse a compatible pinned map or create and pin one.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { TsbpfError } from "../../errors.js";
import { MapType, type MapSpec } from "../../object/index.js";
import { SyscallError } from "../errors.js";
import { DEFAULT_BPFFS, ensureBpffs } from "../bpffs.js";
import { KernelMap, possibleCpus } from "../map.js";

/** A pinned map that cannot be reused: names the path and every mismatching attribute. */
export class PinnedMapMismatchError extends TsbpfError {
  override name = "PinnedMapMismatchError";
  constructor(
    readonly path: string,
    readonly map: string,
    readonly mismatches: readonly string[],
  ) {
    super(
      `map '${map}': the map pinned at ${path} is not compatible: ${mismatches.join(", ")} (unpin it or rename the map)`,
    );
  }
}

/** libbpf creates these types without BTF key/value types (the kernel rejects or ignores them). */
const NO_BTF_TYPES: ReadonlySet<MapType> = new Set([
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.QUEUE,
  MapType.STACK,
  MapType.PROG_ARRAY,
  MapType.RINGBUF,
  MapType.USER_RINGBUF,
]);

export interface CreateMapOptions {
  /** The object's BTF in the kernel, when it loaded. */
  readonly btfFd: number | undefined;
  /** Directory replacing /sys/fs/bpf for by-name pins (libbpf's pin_root_path). */
  readonly pinPath: string | undefined;
  readonly log: (message: string) => void;
}

/**
 * The path a map is pinned at; undefined when not pinned. `pinPath` replaces /sys/fs/bpf for
 * every kind: by-name and iproute2 object-ns pins go to <pinPath>/NAME, iproute2 global-ns pins
 * to <pinPath>/tc/globals/NAME.
 */
export function pinPathOf(spec: MapSpec, pinPath: string | undefined): string | undefined {
  const p = spec.pinning;
  if (p.kind === "none") return undefined;
  if (pinPath === undefined) return p.path;
  const root = pinPath.replace(/\/+$/, "");
  return p.kind === "global-ns" ? `${root}/tc/globals/${spec.name}` : `${root}/${spec.name}`;
}

/** The attributes the kernel must agree on to reuse a pinned map (libbpf's map_is_reuse_compat). */
function mismatches(spec: MapSpec, map: KernelMap): string[] {
  const out: string[] = [];
  const i = map.info;
  const want = effectiveShape(spec);
  const check = (what: string, have: string | number | bigint, wanted: string | number | bigint): void => {
    if (have !== wanted) out.push(`${what} is ${have}, the object wants ${wanted}`);
  };
  check("type", i.typeName, spec.typeName);
  check("key size", i.keySize, want.keySize);
  check("value size", i.valueSize, want.valueSize);
  check("max entries", i.maxEntries, want.maxEntries);
  check("flags", i.flags, spec.flags);
  check("map_extra", i.mapExtra, spec.mapExtra);
  return out;
}

/** Sizes as the kernel sees them (libbpf fills perf event arrays' max_entries with the CPU count). */
function effectiveShape(spec: MapSpec): { keySize: number; valueSize: number; maxEntries: number } {
  let { keySize, valueSize, maxEntries } = spec;
  if (spec.type === MapType.PERF_EVENT_ARRAY) {
    keySize ||= 4;
    valueSize ||= 4;
    if (maxEntries === 0) maxEntries = possibleCpus();
  }
  return { keySize, valueSize, maxEntries };
}

function ensurePinDir(path: string): void {
  const dir = dirname(path);
  if (dir === DEFAULT_BPFFS || dir.startsWith(`${DEFAULT_BPFFS}/`)) ensureBpffs();
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
}

/** Creates one map from its spec (inner template first for map-in-maps), without pinning. */
export function createMap(spec: MapSpec, options: CreateMapOptions): KernelMap {
  if (spec.type === MapType.UNSPEC)
    throw new TsbpfError(`map '${spec.name}': no map type (type 0) in its definition`);
  let inner: KernelMap | undefined;
  if (spec.innerMap) inner = createMap({ ...spec.innerMap, name: spec.innerMap.name.slice(0, 15) }, options);
  try {
    const shape = effectiveShape(spec);
    const withBtf = options.btfFd !== undefined && !NO_BTF_TYPES.has(spec.type) && spec.btfValueTypeId !== 0;
    const attrs = {
      type: spec.type,
      name: spec.name.replace(/[^A-Za-z0-9_.]/g, "_"),
      ...shape,
      flags: spec.flags,
      numaNode: spec.numaNode,
      mapExtra: spec.mapExtra,
      ...(inner ? { innerMap: inner } : {}),
    };
    if (withBtf) {
      try {
        return KernelMap.create({
          ...attrs,
          btfFd: options.btfFd,
          btfKeyTypeId: spec.btfKeyTypeId,
          btfValueTypeId: spec.btfValueTypeId,
        });
      } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
        options.log(`map '${spec.name}': ${e.message}; retrying without BTF`);
      }
    }
    return KernelMap.create(attrs);
  } finally {
    inner?.close();
  }
}

/** Writes a global data map's initial value (and freezes .rodata / .kconfig). */
export function populateData(spec: MapSpec, map: KernelMap): void {
  if (spec.contents === undefined && !spec.frozen) return; // .bss: zeros already
  const key = new Uint8Array(4);
  if (spec.contents !== undefined) {
    const value = new Uint8Array(spec.valueSize);
    value.set(spec.contents.subarray(0, spec.valueSize));
    map.update(key, value);
  }
  if (spec.frozen) map.freeze();
}

/** The result of opening a map: reused from a pin, or created (and pinned when asked). */
export interface OpenedMap {
  readonly map: KernelMap;
  readonly pinnedAt: string | undefined;
  /** Whether an existing pin was reused (then its contents are left alone). */
  readonly reused: boolean;
}

/** Reuses a compatible pinned map or creates the map (filling global data), pinning it when asked. */
export function openMap(spec: MapSpec, options: CreateMapOptions): OpenedMap {
  const path = pinPathOf(spec, options.pinPath);
  if (path !== undefined) {
    ensurePinDir(path);
    if (existsSync(path)) {
      const pinned = KernelMap.fromPin(path);
      const bad = mismatches(spec, pinned);
      if (bad.length > 0) {
        pinned.close();
        throw new PinnedMapMismatchError(path, spec.name, bad);
      }
      options.log(`map '${spec.name}': reusing the map pinned at ${path}`);
      return { map: pinned, pinnedAt: path, reused: true };
    }
  }
  const map = createMap(spec, options);
  try {
    populateData(spec, map);
    if (path !== undefined) map.pin(path);
  } catch (e) {
    map.close();
    throw e;
  }
  return { map, pinnedAt: path, reused: false };
}
