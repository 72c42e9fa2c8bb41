/**
 * Gets a Debian kernel by package name through apt and prepares it for booting under QEMU:
 * the ELF vmlinux (booted directly through PVH, which skips the slow in-guest decompression
 * under TCG) and a cpio archive of the modules the guest needs (decompressed, with modules.dep).
 * Everything is cached in cacheDir()/<release>/; a kernel is downloaded once.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { MatrixError, aptUpdate, cacheDir, run, tool } from "./host.js";
import type { KernelEntry } from "./kernels.js";

/** A kernel ready to boot. */
export interface PreparedKernel {
  /** `uname -r` of the kernel. */
  readonly release: string;
  /** Debian package and version it came from. */
  readonly pkg: string;
  readonly version: string;
  /** Uncompressed ELF kernel image (PVH entry point). */
  readonly vmlinux: string;
  /** newc cpio archive with lib/modules/<release>/ (appended to the base initramfs). */
  readonly modulesCpio: string;
}

/** Modules loaded at boot (the 9p share) and those loadable on demand (busybox modprobe). */
export const BOOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p"] as const;
const EXTRA_MODULES = ["veth", "dummy", "sch_ingress", "cls_bpf", "act_bpf", "netkit", "bridge"] as const;

/** Numeric-aware order of kernel releases ("6.1.0-9" < "6.1.0-56", "6.12.9+deb12" < "6.12.117+deb12"). */
export function compareReleases(a: string, b: string): number {
  const na = a.split(/\D+/).filter(Boolean).map(Number);
  const nb = b.split(/\D+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The newest package matching entry.pkg in apt's lists (updated once if nothing matches). */
export function newestPackage(entry: KernelEntry): { pkg: string; release: string } | undefined {
  const pattern = entry.pkg;
  if (!pattern) return undefined;
  const find = () =>
    run("apt-cache", ["pkgnames", "linux-image-"])
      .split("\n")
      .map((name) => ({ pkg: name.trim(), m: pattern.exec(name.trim()) }))
      .filter((c) => c.m)
      .map((c) => ({ pkg: c.pkg, release: c.m![1]! }))
      .sort((x, y) => compareReleases(x.release, y.release));
  let found = find();
  if (found.length === 0) {
    aptUpdate();
    found = find();
  }
  return found.at(-1);
}

/** Extracts the ELF vmlinux from a bzImage whose payload is xz or zstd compressed. */
export function extractVmlinux(bzImage: string, out: string): void {
  const data = readFileSync(bzImage);
  const decoders: readonly { magic: Buffer; cmd: string }[] = [
    { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), cmd: tool("xz") },
    { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), cmd: tool("zstd") },
  ];
  for (const { magic, cmd } of decoders) {
    for (let off = data.indexOf(magic); off >= 0; off = data.indexOf(magic, off + 1)) {
      // Trailing bytes after the stream make the decoder exit non-zero: judge by the output.
      const r = spawnSync(cmd, ["-dc"], { input: data.subarray(off), maxBuffer: 1 << 30 });
      const elf = r.stdout;
      if (elf && elf.length > 4 && elf.readUInt32BE(0) === 0x7f454c46) {
        writeFileSync(out, elf);
        return;
      }
    }
  }
  throw new MatrixError(`${bzImage}: no xz or zstd compressed ELF kernel inside`);
}

/** Parses modules.dep into module path -> dependency paths. */
function readModulesDep(path: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const [mod, rest] = line.split(":");
    if (mod && rest !== undefined) deps.set(mod, rest.trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

/** Module file name without directory and compression suffix ("fs/9p/9p.ko.xz" -> "9p"). */
const moduleName = (path: string): string => basename(path).replace(/\.ko(\.xz|\.zst|\.gz)?$/, "");

/** Copies the wanted modules and their dependencies (decompressed) into a tree and runs depmod. */
function stageModules(tree: string, release: string, stage: string): string[] {
  const depmod = tool("depmod");
  const modDir = join(tree, "lib/modules", release);
  run(depmod, ["-b", tree, release]);
  const deps = readModulesDep(join(modDir, "modules.dep"));
  const byName = new Map([...deps.keys()].map((p) => [moduleName(p).replace(/-/g, "_"), p]));
  const chosen = new Set<string>();
  const add = (path: string): void => {
    if (chosen.has(path)) return;
    chosen.add(path);
    for (const d of deps.get(path) ?? []) add(d);
  };
  for (const name of [...BOOT_MODULES, ...EXTRA_MODULES]) {
    const path = byName.get(name.replace(/-/g, "_"));
    if (path) add(path); // absent: built in, or not in this kernel (netkit before 6.7)
  }
  const outDir = join(stage, "lib/modules", release);
  for (const path of chosen) {
    const target = join(outDir, path.replace(/\.(xz|zst|gz)$/, ""));
    mkdirSync(dirname(target), { recursive: true });
    // busybox insmod/modprobe load plain .ko files only
    const compressed = /\.(xz|zst)$/.exec(path)?.[1];
    copyFileSync(join(modDir, path), compressed ? `${target}.${compressed}` : target);
    if (compressed === "xz") run(tool("xz"), ["-d", `${target}.xz`]);
    if (compressed === "zst") run(tool("zstd"), ["-dq", "--rm", `${target}.zst`]);
  }
  for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) {
    if (existsSync(join(modDir, f))) copyFileSync(join(modDir, f), join(outDir, f));
  }
  run(depmod, ["-b", stage, release]);
  return [...chosen].map(moduleName).sort();
}

/** Packs a directory into a newc cpio archive (the initramfs format). */
export function packCpio(root: string, out: string): void {
  run("sh", ["-c", `cd "$1" && find . | "$2" -o -H newc --quiet > "$3"`, "sh", root, tool("cpio"), out]);
}

/** Downloads (once) and prepares the newest kernel of `entry`. */
export function prepareKernel(entry: KernelEntry, log: (line: string) => void): PreparedKernel {
  const resolved = newestPackage(entry) ?? newestCached(entry);
  if (!resolved)
    throw new MatrixError(`kernel ${entry.name}: no package matches ${entry.pkg} in apt's lists`);
  const dir = join(cacheDir(), resolved.release);
  const meta = join(dir, "kernel.json");
  if (existsSync(meta)) return JSON.parse(readFileSync(meta, "utf8")) as PreparedKernel;

  const started = Date.now();
  log(`kernel ${entry.name}: downloading ${resolved.pkg}`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run("apt-get", ["download", "-qq", resolved.pkg], { cwd: tmp, stdio: ["ignore", "ignore", "pipe"] });
  const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
  if (!deb) throw new MatrixError(`apt-get download ${resolved.pkg} produced no .deb`);
  const version = decodeURIComponent(deb.split("_")[1] ?? "?");
  const tree = join(tmp, "tree");
  run("dpkg-deb", ["-x", join(tmp, deb), tree]);
  rmSync(join(tmp, deb));

  const out = join(tmp, "out");
  mkdirSync(out);
  extractVmlinux(join(tree, "boot", `vmlinuz-${resolved.release}`), join(out, "vmlinux"));
  const configFile = join(tree, "boot", `config-${resolved.release}`);
  if (existsSync(configFile)) copyFileSync(configFile, join(out, "config"));
  const stage = join(tmp, "modroot");
  const modules = stageModules(tree, resolved.release, stage);
  packCpio(stage, join(out, "modules.cpio"));

  rmSync(dir, { recursive: true, force: true });
  renameSync(out, dir);
  rmSync(tmp, { recursive: true, force: true });
  const prepared: PreparedKernel = {
    release: resolved.release,
    pkg: resolved.pkg,
    version,
    vmlinux: join(dir, "vmlinux"),
    modulesCpio: join(dir, "modules.cpio"),
  };
  writeFileSync(meta, JSON.stringify(prepared, null, 2) + "\n");
  log(
    `kernel ${entry.name}: ${resolved.release} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (modules: ${modules.join(" ")})`,
  );
  return prepared;
}

/** Without apt lists (offline), the newest kernel of `entry` already in the cache. */
function newestCached(entry: KernelEntry): { pkg: string; release: string } | undefined {
  if (!entry.pkg || !existsSync(cacheDir())) return undefined;
  const releases = readdirSync(cacheDir())
    .filter((d) => existsSync(join(cacheDir(), d, "kernel.json")))
    .map((d) => JSON.parse(readFileSync(join(cacheDir(), d, "kernel.json"), "utf8")) as PreparedKernel)
    .filter((k) => entry.pkg!.test(k.pkg))
    .sort((x, y) => compareReleases(x.release, y.release));
  const k = releases.at(-1);
  return k && { pkg: k.pkg, release: k.release };
}
