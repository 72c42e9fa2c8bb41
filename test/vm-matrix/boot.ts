/**
 * Boots a prepared kernel under QEMU (TCG: the host's KVM is a PVM flavour on which stock
 * kernels hang) with the project shared over virtio-9p, streams the console, and reads the
 * job's exit code from the share. QEMU's own exit status says nothing about the guest.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BEGIN_MARK, END_MARK } from "./initramfs.js";
import type { PreparedKernel } from "./fetch.js";
import { tool } from "./host.js";

/** A host directory the guest mounts at the same path. */
export interface Share {
  readonly tag: string;
  readonly path: string;
  readonly readonly: boolean;
}

export interface BootOptions {
  readonly kernel: PreparedKernel;
  readonly initrd: string;
  /** The first share is the guest's root ("/"), the others are mounted on top of it. */
  readonly shares: readonly Share[];
  /** Where the job runs (the project directory). */
  readonly cwd: string;
  /** Host directory with job.sh; the guest writes exit-code there. */
  readonly jobDir: string;
  /** Hard limit for the whole boot, in seconds. */
  readonly timeoutSeconds: number;
  /** Every console line goes here. */
  readonly consoleLog: string;
  /** Called with each line the job prints (between the markers). */
  readonly onJobLine?: (line: string) => void;
  readonly memory?: string;
  readonly cpus?: number;
  /** Called before booting again after a guest died before the job began (its console tail). */
  readonly onRetry?: (tail: readonly string[]) => void;
}

export interface BootResult {
  /** The job's exit code as the guest wrote it; undefined when it wrote none. */
  readonly exitCode: number | undefined;
  /** Wall seconds from starting QEMU to the job's start (undefined if it never started). */
  readonly bootSeconds: number | undefined;
  /** Wall seconds the job ran (undefined if it never ended). */
  readonly jobSeconds: number | undefined;
  readonly totalSeconds: number;
  readonly timedOut: boolean;
  /** The last console lines, for error messages. */
  readonly tail: readonly string[];
}

/** The QEMU command line for a boot. */
export function qemuArgs(o: BootOptions): string[] {
  const mounts = o.shares.map((s) => `${s.tag}:${s.path}:${s.readonly ? "ro" : "rw"}`).join(",");
  const append = [
    "console=ttyS0",
    "panic=-1",
    "quiet",
    "loglevel=4",
    "rdinit=/init",
    `tsbpf.mounts=${mounts}`,
    `tsbpf.cwd=${o.cwd}`,
    `tsbpf.job=${o.jobDir}`,
  ].join(" ");
  return [
    ...["-accel", "tcg,thread=multi", "-cpu", "max", "-m", o.memory ?? "2G", "-smp", String(o.cpus ?? 2)],
    ...["-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none"],
    ...["-kernel", o.kernel.vmlinux, "-initrd", o.initrd, "-append", append],
    ...o.shares.flatMap((s) => [
      "-virtfs",
      `local,path=${s.path},mount_tag=${s.tag},security_model=none,multidevs=remap,id=${s.tag}${s.readonly ? ",readonly=on" : ""}`,
    ]),
  ];
}

/** Boots a guest that dies before its job begins this many times in all before giving up. */
const BOOT_ATTEMPTS = 2;

/**
 * Boots, runs the job, and resolves when QEMU has exited (or was killed at the timeout). A guest
 * that dies before the job begins (TCG with several vCPUs now and then runs a stale int3 of the
 * kernel's boot-time code patching: "Oops: int3" then a panic) is booted again: no test ran, so
 * nothing is hidden. The dead boot's console is kept as CONSOLE.attemptN.
 */
export async function boot(o: BootOptions): Promise<BootResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await bootOnce(o);
    if (r.bootSeconds !== undefined || r.timedOut || attempt >= BOOT_ATTEMPTS) return r;
    renameSync(o.consoleLog, `${o.consoleLog}.attempt${attempt}`);
    o.onRetry?.(r.tail);
  }
}

/** The console line saying why a guest died ("Oops: int3 …", "Kernel panic …"), else its last line. */
export function guestDeath(tail: readonly string[]): string {
  const line = tail.find((l) => /Oops|BUG:|Kernel panic/.test(l)) ?? tail.at(-1) ?? "no console output";
  return line.replace(/^\[\s*[\d.]+\]\s*/, "");
}

function bootOnce(o: BootOptions): Promise<BootResult> {
  const exitFile = join(o.jobDir, "exit-code");
  rmSync(exitFile, { force: true });
  const started = performance.now();
  let begun: number | undefined;
  let ended: number | undefined;
  const tail: string[] = [];
  const log = createWriteStream(o.consoleLog);
  const child = spawn(
    "timeout",
    ["-k", "10", String(o.timeoutSeconds), tool("qemu-system-x86_64"), ...qemuArgs(o)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let pending = "";
  const onLine = (raw: string): void => {
    const line = raw.replace(/\r$/, "");
    log.write(line + "\n");
    tail.push(line);
    if (tail.length > 40) tail.shift();
    if (line.startsWith(BEGIN_MARK)) begun = performance.now();
    else if (line.startsWith(END_MARK)) ended = performance.now();
    else if (begun !== undefined && ended === undefined) o.onJobLine?.(line);
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    lines.forEach(onLine);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => log.write(`[qemu stderr] ${chunk}`));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (pending) onLine(pending);
      log.end();
      const text = existsSync(exitFile) ? readFileSync(exitFile, "utf8").trim() : "";
      const seconds = (t: number | undefined, from: number) =>
        t === undefined ? undefined : (t - from) / 1000;
      resolve({
        exitCode: /^\d+$/.test(text) ? Number(text) : undefined,
        bootSeconds: seconds(begun, started),
        jobSeconds: begun === undefined ? undefined : seconds(ended, begun),
        totalSeconds: (performance.now() - started) / 1000,
        timedOut: code === 124 || code === 137,
        tail,
      });
    });
  });
}
