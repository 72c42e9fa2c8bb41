import { readFileSync } from "node:fs";
import { TsbpfError } from "../../errors.js";

/** One line of /proc/PID/maps. */
export interface MapsEntry {
  readonly start: bigint;
  readonly end: bigint;
  /** "r-xp" */
  readonly perms: string;
  readonly offset: bigint;
  readonly inode: number;
  /** The mapped file, or "" / "[heap]"-like pseudo names. */
  readonly path: string;
}

/** Parses the text of /proc/PID/maps. */
export function parseProcMaps(text: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+(\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3]!,
      offset: BigInt(`0x${m[4]}`),
      inode: Number(m[5]),
      path: m[6]!.replace(/ \(deleted\)$/, ""),
    });
  }
  return out;
}

/** Whether a file name is the library `name`: "c" / "libc" / "libc.so" / "libc.so.6" all match "libc.so.6". */
export function libraryNameMatches(fileName: string, name: string): boolean {
  if (fileName === name) return true;
  const stem = name.startsWith("lib") ? name : `lib${name}`;
  return fileName === stem || fileName.startsWith(`${stem}.so`) || fileName.startsWith(`${stem}-`);
}

/** The path of the library `name` mapped into process `pid` (default: this process), if any. */
export function findLibraryInMaps(name: string, pid: number | "self" = "self"): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch (e) {
    throw new TsbpfError(`cannot read /proc/${pid}/maps (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
    });
  }
  for (const entry of parseProcMaps(text)) {
    if (!entry.path.startsWith("/")) continue;
    const base = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    if (libraryNameMatches(base, name)) return entry.path;
  }
  return undefined;
}
