import { readFileSync } from "node:fs";
import { FormatError } from "../../errors.js";
import { libraryNameMatches } from "./proc-maps.js";

/** Default location of the dynamic linker's cache. */
export const LD_SO_CACHE = "/etc/ld.so.cache";

const NEW_MAGIC = "glibc-ld.so.cache1.1";
const OLD_MAGIC = "ld.so-1.7.0";
/** sizeof(struct cache_file_new) */
const NEW_HEADER = 48;
/** sizeof(struct file_entry_new) */
const NEW_ENTRY = 24;

/** One library of ld.so.cache. */
export interface LdCacheEntry {
  /** The soname, e.g. "libc.so.6". */
  readonly name: string;
  readonly path: string;
  /** FLAG_* bits: (flags & 0xff) is the ELF type, (flags & 0xff00) the architecture. */
  readonly flags: number;
  readonly hwcap: bigint;
}

/** Architecture bits (flags & 0xff00) of the entries usable by this process. */
const ARCH_FLAGS: Readonly<Record<string, number>> = {
  x64: 0x0300, // FLAG_X8664_LIB64
  arm64: 0x0a00, // FLAG_AARCH64_LIB64
  riscv64: 0x1000, // FLAG_RISCV_FLOAT_ABI_DOUBLE
  ppc64: 0x0500, // FLAG_POWERPC_LIB64
  s390x: 0x0400, // FLAG_S390_LIB64
};

/**
 * Parses ld.so.cache in the new format (glibc >= 2.32 writes only it), also when it follows
 * the old format's entries. String offsets are relative to the start of the new header.
 */
export function parseLdCache(bytes: Uint8Array, file = LD_SO_CACHE): LdCacheEntry[] {
  const text = (at: number, n: number): string => Buffer.from(bytes.subarray(at, at + n)).toString("latin1");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let base = 0;
  if (text(0, OLD_MAGIC.length) === OLD_MAGIC) {
    if (bytes.length < 16) throw new FormatError("truncated old-format header", file, 0);
    const oldCount = view.getUint32(12, true);
    base = (16 + oldCount * 12 + 7) & ~7;
  }
  if (text(base, NEW_MAGIC.length) !== NEW_MAGIC)
    throw new FormatError(`not an ld.so.cache in the new format (no '${NEW_MAGIC}')`, file, base);
  if (bytes.length < base + NEW_HEADER) throw new FormatError("truncated header", file, base);
  const count = view.getUint32(base + 20, true);
  if (base + NEW_HEADER + count * NEW_ENTRY > bytes.length)
    throw new FormatError(`${count} entries extend past the end of the file`, file, base + 20);
  const str = (off: number, where: number): string => {
    const at = base + off;
    const end = bytes.indexOf(0, at);
    if (at >= bytes.length || end < 0)
      throw new FormatError(`string offset ${off} out of range`, file, where);
    return Buffer.from(bytes.subarray(at, end)).toString("utf8");
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = base + NEW_HEADER + i * NEW_ENTRY;
    out.push({
      flags: view.getInt32(at, true),
      name: str(view.getUint32(at + 4, true), at + 4),
      path: str(view.getUint32(at + 8, true), at + 8),
      hwcap: view.getBigUint64(at + 16, true),
    });
  }
  return out;
}

/** The path ld.so.cache gives for library `name` ("c", "libc", "libc.so.6") on this architecture. */
export function findLibraryInLdCache(name: string, cachePath = LD_SO_CACHE): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(cachePath);
  } catch {
    return undefined;
  }
  const arch = ARCH_FLAGS[process.arch];
  const entries = parseLdCache(bytes, cachePath).filter(
    (e) => (e.flags & 0xff) === 3 /* FLAG_ELF_LIBC6 */ && (arch === undefined || (e.flags & 0xff00) === arch),
  );
  return (entries.find((e) => e.name === name) ?? entries.find((e) => libraryNameMatches(e.name, name)))
    ?.path;
}
