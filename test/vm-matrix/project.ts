/** Where the project is, what the guest mounts, where results go. */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * The directories the guest mounts: the host's root read-only (the guest runs in it, with the
 * host's node and tools), the project read-write on top (results are written there) and the
 * shared test material read-only — mounted explicitly because the guest's own /tmp, /run… hide
 * whatever the host has there (CI may clone under /tmp).
 */
export function shares(root: string): Share[] {
  const shared = sharedDir(root);
  return [
    { tag: "hostroot", path: "/", readonly: true },
    { tag: "project", path: root, readonly: false },
    ...(shared ? [{ tag: "shared", path: shared, readonly: true }] : []),
  ];
}

/** The shared test material (TSBPF_SHARED, default <repo>/../shared), when it exists. */
export function sharedDir(root: string): string | undefined {
  const dir = resolve(process.env.TSBPF_SHARED ?? join(root, "..", "shared"));
  // The real path: QEMU exports a directory, and the guest mounts it at the same path.
  return existsSync(dir) ? realpathSync(dir) : undefined;
}

export const log = (line: string): void => console.error(`[kernel-matrix] ${line}`);

/** Where a kernel's job file, console log and results go. */
export const resultsDir = (root: string, kernel: string): string =>
  join(root, "dist", "kernel-matrix", kernel);

/**
 * Takes dist/kernel-matrix/.lock for this process: two runs in one checkout would overwrite each
 * other's snapshot, job files and results. A lock whose process is gone is taken over. Returns
 * the release function (also run at exit).
 */
export function lockResults(root: string, pid = process.pid): () => void {
  const dir = join(root, "dist", "kernel-matrix");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, ".lock");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const holder = Number(readFileSync(file, "utf8").trim());
      if (holder > 0 && holder !== pid && alive(holder))
        throw new MatrixError(
          `another kernel matrix run (pid ${holder}) is using ${dir}: wait for it, or stop it (kill ${holder})`,
        );
      rmSync(file, { force: true }); // left by a run that died
    }
  }
  const release = (): void => {
    try {
      if (Number(readFileSync(file, "utf8").trim()) === pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
  process.once("exit", release);
  return release;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
