import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

let cached: number | undefined;

/** Parses a kernel CPU list ("0-3,8,10-11") into a count. */
export function countCpuList(text: string): number {
  let n = 0;
  for (const range of text.trim().split(",")) {
    if (range === "") continue;
    const [lo, hi] = range.split("-").map(Number);
    if (lo === undefined || !Number.isInteger(lo) || (hi !== undefined && !Number.isInteger(hi)))
      throw new Error(`bad CPU list "${text.trim()}"`);
    n += (hi ?? lo) - lo + 1;
  }
  return n;
}

/**
 * The default CPU count of per-CPU maps: the host's possible CPUs (/sys/devices/system/cpu/possible,
 * as the kernel sizes per-CPU values), or os.availableParallelism() where that file does not exist.
 */
export function defaultCpuCount(): number {
  if (cached !== undefined) return cached;
  try {
    cached = countCpuList(readFileSync("/sys/devices/system/cpu/possible", "utf8"));
  } catch {
    cached = 0;
  }
  if (!(cached > 0)) cached = availableParallelism();
  return cached;
}
