import { existsSync } from "node:fs";
import { TsbpfError } from "../../errors.js";
import { findLibraryInLdCache } from "./ld-cache.js";
import { findLibraryInMaps } from "./proc-maps.js";

/**
 * The file a uprobe target names: a path (with a '/') is used as is; a bare name ("c", "libc",
 * "libssl.so.3") is looked up in /proc/PID/maps of `pid` (this process when absent), then in
 * /etc/ld.so.cache, then on PATH for executables.
 */
export function resolveBinaryPath(target: string, pid?: number): string {
  if (target.includes("/")) {
    if (!existsSync(target)) throw new TsbpfError(`uprobe target ${target} does not exist`);
    return target;
  }
  const mapped = findLibraryInMaps(target, pid ?? "self");
  if (mapped) return mapped;
  const cached = findLibraryInLdCache(target);
  if (cached) return cached;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(`${dir}/${target}`)) return `${dir}/${target}`;
  }
  throw new TsbpfError(
    `uprobe target '${target}' not found in /proc/${pid ?? "self"}/maps, /etc/ld.so.cache or PATH`,
  );
}
