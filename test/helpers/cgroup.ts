import { mkdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

/**
 * Where cgroup v2 is mounted on this machine (/sys/fs/cgroup on most systems, /sys/fs/cgroup/unified
 * on hybrid ones); mounts it at /sys/fs/cgroup/unified when there is none (needs root).
 */
export function cgroup2Root(): string {
  const mounts = readFileSync("/proc/mounts", "utf8").split("\n");
  const found = mounts.map((l) => l.split(" ")).find((f) => f[2] === "cgroup2");
  if (found?.[1]) return found[1];
  const dir = "/sys/fs/cgroup/unified";
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "cgroup2", "none", dir]);
  return dir;
}
