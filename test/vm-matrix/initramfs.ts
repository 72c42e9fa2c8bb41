/**
 * The guest's initramfs: busybox-static, the host's node binary with the libraries it (and
 * native addons such as koffi's) link against, and /init (guestInit below). The project
 * itself comes over virtio-9p. The base archive is built once per node/busybox/init and
 * cached; each kernel's module archive (fetch.ts) is appended to it.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir, run, tool } from "./host.js";
import { packCpio, type PreparedKernel } from "./fetch.js";

/** Markers /init prints around the job so the host can split boot noise from the job's output. */
export const BEGIN_MARK = "@@tsbpf-job-begin";
export const END_MARK = "@@tsbpf-job-end";

/**
 * PID 1 (loads `bootModules` first). Kernel command line: tsbpf.mounts=tag:path:rw|ro,... (9p shares, mounted at the same
 * path as on the host) and tsbpf.job=DIR (job.sh in DIR runs in the first share; its exit code
 * is written to DIR/exit-code, which is how the host learns the result).
 */
export const guestInit = (bootModules: readonly string[]): string => `#!/bin/sh
# PID 1 of a tsbpf kernel-matrix guest, written by test/vm-matrix/initramfs.ts.
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up
for m in ${bootModules.join(" ")}; do modprobe "$m" 2>/dev/null; done
for a in $(cat /proc/cmdline); do
  case "$a" in tsbpf.mounts=*) MOUNTS="${"$"}{a#*=}";; tsbpf.job=*) JOB="${"$"}{a#*=}";; esac
done
die() { echo "tsbpf-guest: $*"; echo o > /proc/sysrq-trigger; poweroff -f; }
PROJECT=
for m in $(echo "$MOUNTS" | tr , ' '); do
  tag=${"$"}{m%%:*}; rest=${"$"}{m#*:}; path=${"$"}{rest%:*}; mode=${"$"}{rest##*:}
  mkdir -p "$path"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,$mode "$tag" "$path" || die "cannot mount 9p share $tag on $path"
  [ -n "$PROJECT" ] || PROJECT=$path
done
[ -n "$PROJECT" ] && [ -n "$JOB" ] || die "no tsbpf.mounts/tsbpf.job on the kernel command line"
cd "$PROJECT" || die "cannot enter $PROJECT"
echo "${BEGIN_MARK} $(cut -d' ' -f1 /proc/uptime)"
sh "$JOB/job.sh" </dev/null 2>&1
rc=$?
echo "$rc" > "$JOB/exit-code"
sync
echo "${END_MARK} $rc $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
`;

/** The libraries `ldd` lists for an ELF file, with the dynamic loader (absolute paths). */
function libraries(elf: string): string[] {
  return [...run("ldd", [elf]).matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]!).filter((p) => existsSync(p));
}

/** Native addons (*.node) under node_modules built for this machine (their libraries go in too). */
function nativeAddons(projectDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 6 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p, depth + 1);
      else if (name.endsWith(".node") && p.includes(`${process.platform}_${process.arch}`)) out.push(p);
    }
  };
  walk(join(projectDir, "node_modules"), 0);
  return out;
}

/** Builds (or reuses) the base initramfs; returns the image path with the kernel's modules appended. */
export function initramfsFor(
  kernel: PreparedKernel,
  projectDir: string,
  bootModules: readonly string[],
): string {
  const node = process.execPath;
  const busybox = tool("busybox");
  const libs = [...new Set([node, ...nativeAddons(projectDir)].flatMap(libraries))].sort();
  const init = guestInit(bootModules);
  const key = createHash("sha256");
  for (const f of [node, busybox, ...libs]) {
    const st = statSync(f);
    key.update(`${f}:${st.size}:${st.mtimeMs}\n`);
  }
  key.update(init);
  const hash = key.digest("hex").slice(0, 12);
  const base = join(cacheDir(), `initramfs-${hash}.cpio`);
  if (!existsSync(base)) {
    const root = `${base}.d`;
    rmSync(root, { recursive: true, force: true });
    for (const d of [
      "bin",
      "sbin",
      "usr/bin",
      "usr/sbin",
      "proc",
      "sys",
      "dev",
      "tmp",
      "run",
      "root",
      "etc",
      "mnt",
    ]) {
      mkdirSync(join(root, d), { recursive: true });
    }
    copyFileSync(busybox, join(root, "bin/busybox"));
    symlinkSync("busybox", join(root, "bin/sh"));
    copyFileSync(node, join(root, "usr/bin/node"));
    for (const lib of libs) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    writeFileSync(join(root, "init"), init);
    chmodSync(join(root, "init"), 0o755);
    chmodSync(join(root, "usr/bin/node"), 0o755);
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    writeFileSync(join(root, "etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n");
    packCpio(root, base);
    rmSync(root, { recursive: true, force: true });
  }
  const image = join(cacheDir(), kernel.release, `initrd-${hash}.img`);
  if (!existsSync(image)) {
    writeFileSync(image, Buffer.concat([readFileSync(base), readFileSync(kernel.modulesCpio)]));
  }
  return image;
}
