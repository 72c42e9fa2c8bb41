import { TsbpfError } from "../errors.js";
import { STACK_SIZE } from "../isa/opcodes.js";
import { MemoryAccessError, describeRegion } from "./fault.js";

/**
 * The address space of the userspace VM: a set of typed regions.
 *
 * An address is `(regionId << 32) | offset`: the high word selects the region in O(1), pointer
 * arithmetic inside a region works as on real pointers, and addresses below 2^32 (null, small
 * integers) select no region, so dereferencing them faults. Region ids start at 1 and are reused
 * after `removeRegion`.
 *
 * Every access is bounds-checked against its region: it must lie entirely inside the region
 * (offset >= 0, offset + size <= length); an access that starts in one region and ends in the next
 * faults. Misaligned accesses are allowed, as in the kernel on x86 (CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS).
 * Multi-byte values are little endian, as on the x86/arm64 hosts the kernel runs BPF on.
 */

/** What a region holds; only used for messages and by program types. */
export type RegionKind = "context" | "packet" | "stack" | "map-value" | "read-only-data" | "other";

export interface RegionSpec {
  readonly kind: RegionKind;
  /** Name used in fault messages ("context", "packet", "map 'counts' value"). */
  readonly name: string;
  /** The backing bytes, shared (not copied): writes by the program are visible to the owner. */
  readonly bytes?: Uint8Array;
  /** Length of a fresh zero-filled region when `bytes` is not given. */
  readonly length?: number;
  /** Default true, except for "read-only-data". */
  readonly writable?: boolean;
}

/** One mapped region. */
export class Region {
  /** Address of the first byte. */
  readonly base: bigint;
  /** @internal use Memory.addRegion */
  constructor(
    readonly id: number,
    readonly kind: RegionKind,
    readonly name: string,
    readonly bytes: Uint8Array,
    readonly writable: boolean,
  ) {
    this.base = BigInt(id) << 32n;
  }
  get length(): number {
    return this.bytes.length;
  }
  /** Address of the byte at `offset`. */
  address(offset = 0): bigint {
    return this.base + BigInt(offset);
  }
  toString(): string {
    return describeRegion(this);
  }
}

/** Largest region: offsets are 32-bit. */
const MAX_REGION_LENGTH = 0x7fffffff;

const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** A set of regions addressed as `(id << 32) | offset`. */
export class Memory {
  // Parallel tables indexed by region id, read directly by the interpreter's hot loop.
  // Slot 0 is the null region. -1 lengths make every access fail.
  /** @internal */ readonly _views: DataView[] = [EMPTY_VIEW];
  /** @internal bytes readable in each region, -1 when unmapped */
  readonly _readLengths: number[] = [-1];
  /** @internal bytes writable in each region, -1 when read-only or unmapped */
  readonly _writeLengths: number[] = [-1];
  /** @internal */ readonly _regions: (Region | null)[] = [null];
  private readonly free: number[] = [];
  /** Regions unmapped with unmapRegion (and their views): their ids stay reserved for remapRegion. */
  private readonly parked = new Map<number, { readonly region: Region; readonly view: DataView }>();
  /** Released scratch regions by name (see acquireScratch). */
  private readonly scratch = new Map<string, Region[]>();
  private readonly stacks: Region[][] = [];
  /** @internal runs currently using this memory: a nested run gets its own set of stack frames */
  _activeRuns = 0;

  /** Map a region and return it; its base address is `region.base`. */
  addRegion(spec: RegionSpec): Region {
    const bytes = spec.bytes ?? new Uint8Array(spec.length ?? 0);
    if (bytes.length > MAX_REGION_LENGTH)
      throw new TsbpfError(
        `region "${spec.name}" is too large (${bytes.length} bytes, max ${MAX_REGION_LENGTH})`,
      );
    const writable = spec.writable ?? spec.kind !== "read-only-data";
    const id = this.free.pop() ?? this._regions.length;
    const region = new Region(id, spec.kind, spec.name, bytes, writable);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (id === this._regions.length) {
      this._regions.push(region);
      this._views.push(view);
      this._readLengths.push(bytes.length);
      this._writeLengths.push(writable ? bytes.length : -1);
    } else {
      this._regions[id] = region;
      this._views[id] = view;
      this._readLengths[id] = bytes.length;
      this._writeLengths[id] = writable ? bytes.length : -1;
    }
    return region;
  }

  /** Unmap a region; later accesses to its addresses fault. Its id may be reused. */
  removeRegion(region: Region): void {
    if (this.parked.get(region.id)?.region === region) {
      this.parked.delete(region.id);
      this.free.push(region.id);
      return;
    }
    if (this._regions[region.id] !== region) return;
    this._regions[region.id] = null;
    this._views[region.id] = EMPTY_VIEW;
    this._readLengths[region.id] = -1;
    this._writeLengths[region.id] = -1;
    this.free.push(region.id);
  }

  /**
   * Unmap a region like removeRegion, but keep its id (and so its addresses) reserved until
   * remapRegion maps it again or removeRegion releases it: scratch regions reused from run to run.
   */
  unmapRegion(region: Region): void {
    if (this._regions[region.id] !== region) return;
    this.parked.set(region.id, { region, view: this._views[region.id]! });
    this._regions[region.id] = null;
    this._views[region.id] = EMPTY_VIEW;
    this._readLengths[region.id] = -1;
    this._writeLengths[region.id] = -1;
  }

  /** Map again a region unmapped with unmapRegion, at the same addresses, with the same bytes. */
  remapRegion(region: Region): void {
    const parked = this.parked.get(region.id);
    if (parked?.region !== region)
      throw new TsbpfError(`region "${region.name}" was not unmapped with unmapRegion`);
    this.parked.delete(region.id);
    this._regions[region.id] = region;
    this._views[region.id] = parked.view;
    this._readLengths[region.id] = region.length;
    this._writeLengths[region.id] = region.writable ? region.length : -1;
  }

  /**
   * A zero-filled writable scratch region (contexts and packets of test runs): a released one with
   * the same name and length, mapped again at its old addresses, or a new one. Reusing them spares
   * an allocation (and its garbage collection) per run; every run still starts from zeroed memory.
   */
  acquireScratch(kind: RegionKind, name: string, length: number): Region {
    const pool = this.scratch.get(name);
    if (pool)
      for (let i = pool.length - 1; i >= 0; i--) {
        const r = pool[i]!;
        if (r.length !== length || r.kind !== kind) continue;
        pool.splice(i, 1);
        this.remapRegion(r);
        r.bytes.fill(0);
        return r;
      }
    return this.addRegion({ kind, name, length });
  }

  /** Unmap a region of acquireScratch (stale pointers to it fault) and keep it for reuse. */
  releaseScratch(region: Region): void {
    if (this._regions[region.id] !== region) return;
    this.unmapRegion(region);
    let pool = this.scratch.get(region.name);
    if (!pool) this.scratch.set(region.name, (pool = []));
    pool.push(region);
  }

  /** Every mapped region, by id. */
  get regions(): Region[] {
    return this._regions.filter((r): r is Region => r !== null);
  }

  /** The region an address points into (or just past), if any. */
  regionAt(address: bigint): Region | undefined {
    const id = Number(BigInt.asUintN(64, address) >> 32n);
    return id < this._regions.length ? (this._regions[id] ?? undefined) : undefined;
  }

  /**
   * The 512-byte stack region of call frame `depth` (created on first use, reused by later runs).
   * The frame pointer r10 of that frame is `region.base + 512`. `set` > 0 are the frames of runs
   * nested in a running one (a helper running a program on the same memory).
   */
  stackFrame(depth: number, set = 0): Region {
    const frames = (this.stacks[set] ??= []);
    let r = frames[depth];
    if (!r || this._regions[r.id] !== r) {
      const name = set === 0 ? `stack[${depth}]` : `stack#${set}[${depth}]`;
      r = this.addRegion({ kind: "stack", name, length: STACK_SIZE });
      frames[depth] = r;
    }
    return r;
  }

  /**
   * The bytes at [address, address + length) as a Uint8Array aliasing the region (no copy).
   * Throws MemoryAccessError when the range is not inside one region, or when `forWrite` and the
   * region is read-only.
   */
  view(address: bigint, length: number, forWrite = false): Uint8Array {
    const a = BigInt.asUintN(64, address);
    return this.viewAt(Number(a >> 32n), Number(a & 0xffffffffn), length, forWrite);
  }

  /** `view` of the address `(id << 32) | offset`, given as its two 32-bit halves (no BigInt). */
  viewAt(id: number, offset: number, length: number, forWrite = false): Uint8Array {
    const region = id < this._regions.length ? this._regions[id] : null;
    if (!region || length < 0 || offset + length > region.bytes.length || (forWrite && !region.writable)) {
      const a = (BigInt(id >>> 0) << 32n) | BigInt(offset >>> 0);
      const access = forWrite ? "write" : "read";
      if (!region) throw new MemoryAccessError("unmapped", access, a, length, undefined);
      if (length < 0 || offset + length > region.bytes.length)
        throw new MemoryAccessError("out-of-bounds", access, a, length, region);
      throw new MemoryAccessError("read-only", access, a, length, region);
    }
    return region.bytes.subarray(offset, offset + length);
  }

  /** A copy of `length` bytes at `address`. */
  read(address: bigint, length: number): Uint8Array {
    return this.view(address, length).slice();
  }

  /** Copy `bytes` to `address`. */
  write(address: bigint, bytes: Uint8Array): void {
    this.view(address, bytes.length, true).set(bytes);
  }

  /** Unsigned little-endian integer of 1, 2, 4 or 8 bytes at `address`. */
  readUint(address: bigint, size: 1 | 2 | 4 | 8): bigint {
    const b = this.view(address, size);
    const v = new DataView(b.buffer, b.byteOffset, size);
    switch (size) {
      case 1:
        return BigInt(v.getUint8(0));
      case 2:
        return BigInt(v.getUint16(0, true));
      case 4:
        return BigInt(v.getUint32(0, true));
      default:
        return v.getBigUint64(0, true);
    }
  }

  /** Store the low `size` bytes of `value`, little endian, at `address`. */
  writeUint(address: bigint, size: 1 | 2 | 4 | 8, value: bigint): void {
    const b = this.view(address, size, true);
    const v = new DataView(b.buffer, b.byteOffset, size);
    const u = BigInt.asUintN(64, value);
    switch (size) {
      case 1:
        v.setUint8(0, Number(u & 0xffn));
        break;
      case 2:
        v.setUint16(0, Number(u & 0xffffn), true);
        break;
      case 4:
        v.setUint32(0, Number(u & 0xffffffffn), true);
        break;
      default:
        v.setBigUint64(0, u, true);
    }
  }

  /** A NUL-terminated string at `address`, reading at most `max` bytes (the whole range must be mapped up to the NUL). */
  readCString(address: bigint, max: number): string {
    const a = BigInt.asUintN(64, address);
    const region = this.regionAt(a);
    const offset = Number(a & 0xffffffffn);
    const available = region ? Math.max(0, Math.min(max, region.length - offset)) : 0;
    const bytes = available > 0 ? this.view(a, available) : new Uint8Array(0);
    const nul = bytes.indexOf(0);
    if (nul < 0 && available < max) this.view(a, available + 1); // throws the precise error
    return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  }
}
