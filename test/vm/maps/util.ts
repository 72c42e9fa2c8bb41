import { MapType } from "../../../src/object/types.js";
import { Memory } from "../../../src/vm/memory.js";
import { createVmMap, type VmMap, type VmMapSpec } from "../../../src/vm/maps/index.js";

export { MapType };
export const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
export const u64 = (n: bigint | number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
  return b;
};
export const getU32 = (b: Uint8Array, off = 0): number =>
  new DataView(b.buffer, b.byteOffset).getUint32(off, true);
export const getU64 = (b: Uint8Array, off = 0): bigint =>
  new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

/** A map on a fresh memory (or the given one). */
export function make(
  spec: Partial<VmMapSpec> & Pick<VmMapSpec, "type">,
  options: { cpus?: number; memory?: Memory } = {},
): VmMap {
  const full: VmMapSpec = { name: "m", keySize: 4, valueSize: 8, maxEntries: 4, ...spec };
  return createVmMap(full, options.memory ?? new Memory(), { cpus: options.cpus ?? 2 });
}

/** The errno of a MapError thrown by fn. */
export function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === "number") return errno;
    throw e;
  }
  throw new Error("expected a MapError");
}
