/**
 * The host side of object loading: reading an object file, and the running kernel's
 * configuration for `.kconfig` externs (/proc/config.gz or /boot/config-$(uname -r), like libbpf).
 * Everything else in src/object is pure.
 */
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { TsbpfError } from "../errors.js";
import type { KconfigValues } from "./externs.js";
import { loadObjectSpec, type LoadObjectOptions } from "./load.js";
import type { ObjectSpec } from "./spec.js";

/**
 * Reads and loads an object file. `.kconfig` externs take their values from the running kernel
 * unless `options.kconfig` is given.
 */
export function loadObjectFile(path: string, options: LoadObjectOptions = {}): ObjectSpec {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new TsbpfError(
      `${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return loadObjectSpec(bytes, { file: path, kconfig: () => readHostKconfig(), ...options });
}

/** LINUX_VERSION_CODE of a release string such as "6.18.0-1-amd64" (patch capped at 255, like libbpf). */
export function kernelVersionCode(releaseText: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(releaseText);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** Parses .config text: `CONFIG_X=value` lines; comments and blank lines are skipped. */
export function parseKconfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The running kernel's configuration plus LINUX_KERNEL_VERSION; only LINUX_KERNEL_VERSION when
 * neither /proc/config.gz nor /boot/config-<release> is readable.
 */
export function readHostKconfig(): KconfigValues {
  // The running kernel's config does not change: gunzip /proc/config.gz once per process.
  hostKconfig ??= readHostKconfigUncached();
  return hostKconfig;
}

let hostKconfig: KconfigValues | undefined;

function readHostKconfigUncached(): KconfigValues {
  const rel = release();
  let text: string | undefined;
  try {
    if (existsSync("/proc/config.gz")) text = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
    else if (existsSync(`/boot/config-${rel}`)) text = readFileSync(`/boot/config-${rel}`, "utf8");
  } catch {
    text = undefined;
  }
  return { ...(text === undefined ? {} : parseKconfig(text)), LINUX_KERNEL_VERSION: kernelVersionCode(rel) };
}
