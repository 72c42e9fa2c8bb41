/**
 * Small host-side helpers of the kernel matrix: running commands, the cache directory and the
 * Debian packages the harness needs (installed with apt-get when missing).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where downloaded kernels and initramfs images live between runs (outside the repository). */
export function cacheDir(): string {
  return (
    process.env.TSBPF_KERNEL_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tsbpf", "kernels")
  );
}

/** A harness failure: a missing tool, a failed download, a guest that wrote no result. */
export class MatrixError extends Error {
  override readonly name = "MatrixError";
}

/** Runs a command to completion and returns its stdout; throws MatrixError with stderr on failure. */
export function run(cmd: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 256 << 20, ...options });
  if (r.error) throw new MatrixError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const err = String(r.stderr ?? "")
      .trim()
      .split("\n")
      .slice(-5)
      .join("\n");
    throw new MatrixError(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}: ${err}`);
  }
  return String(r.stdout ?? "");
}

/** Host tools the harness runs, with the Debian package providing each. */
const TOOLS: readonly { path: readonly string[]; pkg: string }[] = [
  { path: ["/usr/bin/qemu-system-x86_64"], pkg: "qemu-system-x86" },
  { path: ["/bin/busybox", "/usr/bin/busybox"], pkg: "busybox-static" },
  { path: ["/usr/sbin/depmod", "/sbin/depmod"], pkg: "kmod" },
  { path: ["/usr/bin/xz"], pkg: "xz-utils" },
  { path: ["/usr/bin/zstd"], pkg: "zstd" },
  { path: ["/usr/bin/cpio", "/bin/cpio"], pkg: "cpio" },
  { path: ["/usr/bin/timeout"], pkg: "coreutils" },
];

let aptUpdated = false;

/** `apt-get update` once per run (a fresh machine has empty package lists). */
export function aptUpdate(): void {
  if (aptUpdated) return;
  run("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "pipe"] });
  aptUpdated = true;
}

/** Installs the Debian packages of the tools that are missing (needs root). */
export function ensureHostTools(log: (line: string) => void): void {
  const missing = [...new Set(TOOLS.filter((t) => !t.path.some((p) => existsSync(p))).map((t) => t.pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new MatrixError(`missing host packages (install as root): ${missing.join(" ")}`);
  log(`installing host packages: ${missing.join(" ")}`);
  aptUpdate();
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** The first existing path of a tool in TOOLS (after ensureHostTools). */
export function tool(name: string): string {
  const entry = TOOLS.find((t) => t.path[0]!.endsWith(`/${name}`));
  const found = entry?.path.find((p) => existsSync(p));
  if (!found) throw new MatrixError(`${name} not found`);
  return found;
}
