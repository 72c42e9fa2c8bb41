import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

/** Root of the repository (works from test/ sources and from dist/test). */
export const repoRoot = (() => {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = resolve(dir, "..");
  return dir;
})();

/** The ../shared folder beside the repo (or $TSBPF_SHARED). */
export const sharedDir = process.env.TSBPF_SHARED ?? resolve(repoRoot, "..", "shared");

/** Path inside ../shared. */
export const sharedPath = (...parts: string[]) => join(sharedDir, ...parts);

/** The `tsbpf` executable (needs the compiled dist/). */
export const tsbpfBin = join(repoRoot, "bin", "tsbpf.js");
