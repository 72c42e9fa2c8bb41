/** Where the test objects are: the repository's BPF corpus, the shared bench objects, the loader fixtures. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the directory with package.json), from this file compiled or not. */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found");
    dir = up;
  }
  // dist/ has no package.json, so the first one found going up is the repository's.
  return dir;
})();

export const SHARED = process.env.TSBPF_SHARED ?? join(ROOT, "..", "shared");
export const FIXTURES = join(ROOT, "test", "object", "fixtures");

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".bpf.o")) out.push(p);
  }
  return out;
}

/** Every committed object: bpf/**, the shared bench, the loader fixtures. */
export function corpusObjects(): string[] {
  return [...walk(join(ROOT, "bpf"), []), ...walk(join(SHARED, "bench"), []), ...walk(FIXTURES, [])];
}

export const readObject = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
export const repoPath = (...parts: string[]): string => join(ROOT, ...parts);
