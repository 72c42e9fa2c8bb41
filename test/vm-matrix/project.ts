/** Where the project is, what the guest mounts, where results go. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Share } from "./boot.js";
import { MatrixError } from "./host.js";

/** The repository root (the directory with tsbpf's package.json above this file). */
export function projectRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== "/"; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "tsbpf")
      return dir;
  }
  throw new MatrixError("cannot find the tsbpf repository above " + fileURLToPath(import.meta.url));
}

/** The directories the guest mounts: the project (read-write) and the shared material (read-only). */
export function shares(root: string): Share[] {
  const list: Share[] = [{ tag: "project", path: root, readonly: false }];
  const shared = resolve(process.env.TSBPF_SHARED ?? join(root, "..", "shared"));
  if (existsSync(shared)) list.push({ tag: "shared", path: shared, readonly: true });
  return list;
}

export const log = (line: string): void => console.error(`[kernel-matrix] ${line}`);

/** Where a kernel's job file, console log and results go. */
export const resultsDir = (root: string, kernel: string): string =>
  join(root, "dist", "kernel-matrix", kernel);
