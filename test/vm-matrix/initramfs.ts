/**
 * The guest's initramfs: busybox-static and /init (guestInit below), plus each kernel's module
 * archive (fetch.ts) appended. Everything else (node, node_modules, iproute2, compilers,
 * bpftool: what the tests use) comes from the host's root file system, shared read-only over
 * virtio-9p, in which /init runs the job (chroot), with the project mounted read-write on top.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir, tool } from "./host.js";
import { packCpio, type PreparedKernel } from "./fetch.js";

/** Markers /init prints around the job so the host can split boot noise from the job's output. */
export const BEGIN_MARK = "@@tsbpf-job-begin";
export const END_MARK = "@@tsbpf-job-end";

/** Where /init mounts the host's root (the first share) before chrooting into it. */
const NEWROOT = "/newroot";

/**
 * PID 1 (loads `bootModules` first). Kernel command line:
 *   tsbpf.mounts=tag:path:rw|ro,...  9p shares; the first is the root (path "/"), the others are
 *                                   mounted at their host path inside it
 *   tsbpf.cwd=DIR                    where the job runs (the project)
 *   tsbpf.job=DIR                    DIR/job.sh is the job; its exit code goes to DIR/exit-code,
 *                                   which is how the host learns the result
 */
export const guestInit = (bootModules: readonly string[]): string => `#!/bin/sh
# PID 1 of a tsbpf kernel-matrix guest, written by test/vm-matrix/initramfs.ts.
/bin/busybox --install -s
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${bootModules.join(" ")}; do modprobe "$m" 2>/dev/null; done
for a in $(cat /proc/cmdline); do
  case "$a" in
    tsbpf.mounts=*) MOUNTS="\${a#*=}";;
    tsbpf.cwd=*) CWD="\${a#*=}";;
    tsbpf.job=*) JOB="\${a#*=}";;
  esac
done
die() { echo "tsbpf-guest: $*"; poweroff -f; }
[ -n "$MOUNTS" ] && [ -n "$CWD" ] && [ -n "$JOB" ] || die "tsbpf.mounts/cwd/job missing on the kernel command line"
R=${NEWROOT}
mkdir -p $R
share() {
  tag=\${1%%:*}; rest=\${1#*:}; path=\${rest%:*}; mode=\${rest##*:}
  mkdir -p "$R$path" 2>/dev/null
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,$mode "$tag" "$R$path" ||
    die "cannot mount 9p share $tag on $path"
}
# The root share first, then the guest's own /proc, /tmp… and only then the other shares: a project
# under /tmp (CI clones anywhere) must not be hidden by the guest's tmpfs.
share "\${MOUNTS%%,*}"
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
mount -t tmpfs tmpfs $R/tmp
mount -t tmpfs tmpfs $R/run
# this kernel's config where libbpf and tsbpf look for it (.kconfig externs), over the host's /boot
mount -t tmpfs tmpfs $R/boot && cp /boot/config-* $R/boot/ 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf
mount -t tracefs tracefs $R/sys/kernel/tracing
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t securityfs securityfs $R/sys/kernel/security
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup
case "$MOUNTS" in *,*) for m in $(echo "\${MOUNTS#*,}" | tr , ' '); do share "$m"; done;; esac
ip link set lo up
echo "${BEGIN_MARK} $(cut -d' ' -f1 /proc/uptime)"
chroot $R /bin/sh -c 'cd "$1" && HOME=/tmp PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh "$2/job.sh"' \\
  sh "$CWD" "$JOB" </dev/null 2>&1
rc=$?
echo "$rc" > "$R$JOB/exit-code"
sync
echo "${END_MARK} $rc $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
`;

/** Builds (or reuses) the initramfs for a kernel: busybox, /init, the kernel's modules and config. */
export function initramfsFor(kernel: PreparedKernel, bootModules: readonly string[]): string {
  const busybox = tool("busybox");
  const init = guestInit(bootModules);
  const hash = createHash("sha256").update(readFileSync(busybox)).update(init).digest("hex").slice(0, 12);
  const base = join(cacheDir(), `initramfs-${hash}.cpio`);
  if (!existsSync(base)) {
    const root = `${base}.d`;
    rmSync(root, { recursive: true, force: true });
    for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", NEWROOT.slice(1)])
      mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, "bin/busybox"));
    symlinkSync("busybox", join(root, "bin/sh"));
    writeFileSync(join(root, "init"), init);
    chmodSync(join(root, "init"), 0o755);
    packCpio(root, base);
    rmSync(root, { recursive: true, force: true });
  }
  const image = join(cacheDir(), kernel.release, `initrd-${hash}.img`);
  if (!existsSync(image)) {
    const parts = [readFileSync(base), readFileSync(kernel.modulesCpio)];
    const config = join(dirname(kernel.vmlinux), "config");
    if (existsSync(config)) {
      const stage = `${image}.d`;
      rmSync(stage, { recursive: true, force: true });
      mkdirSync(join(stage, "boot"), { recursive: true });
      copyFileSync(config, join(stage, "boot", `config-${kernel.release}`));
      packCpio(stage, `${stage}.cpio`);
      parts.push(readFileSync(`${stage}.cpio`));
      rmSync(stage, { recursive: true, force: true });
      rmSync(`${stage}.cpio`, { force: true });
    }
    writeFileSync(image, Buffer.concat(parts));
  }
  return image;
}
