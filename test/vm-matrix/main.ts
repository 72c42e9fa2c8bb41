/**
 * The kernel matrix: runs tsbpf's kernel tests (MATRIX_TESTS in matrix.ts) natively on the host
 * kernel and inside QEMU guests booting Debian's kernels, then cross-checks feature skips and
 * writes docs/kernel-matrix.md.
 *
 *   node scripts/kernel-matrix.mjs [--kernel NAME]... [--exec CMD] [--filter SUBSTR]...
 *        [--timeout SECONDS] [--no-docs] [--verbose]
 *
 * --exec boots one kernel, runs CMD (sh) in the project directory inside the guest, prints its
 * output and exits with CMD's exit code. --filter selects test files by substring. --timeout
 * bounds each boot (default 900 s, 300 s with --exec). Kernels and initramfs images are cached
 * in $TSBPF_KERNEL_CACHE (default ~/.cache/tsbpf/kernels); results, console and test output per
 * kernel go to dist/kernel-matrix/<kernel>/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boot, guestDeath } from "./boot.js";
import { BOOT_MODULES, prepareKernel } from "./fetch.js";
import { MatrixError, ensureHostTools } from "./host.js";
import { initramfsFor } from "./initramfs.js";
import { KERNELS, kernelByName, type KernelEntry } from "./kernels.js";
import { runMatrix } from "./matrix.js";
import { lockResults, log, projectRoot, resultsDir, sharedDir, shares } from "./project.js";

export interface Options {
  kernels: KernelEntry[];
  exec?: string;
  filters: string[];
  timeoutSeconds: number;
  docs: boolean;
  verbose: boolean;
}

const USAGE =
  "usage: kernel-matrix [--kernel NAME]... [--exec CMD] [--filter SUBSTR]... [--timeout SECONDS] [--no-docs] [--verbose]\n" +
  `kernels: ${KERNELS.map((k) => k.name).join(", ")}`;

/** Parses the command line; throws MatrixError with the usage on bad input. */
export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { kernels: [], filters: [], timeoutSeconds: 0, docs: true, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new MatrixError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--kernel") {
      const name = value();
      const k = kernelByName(name);
      if (!k) throw new MatrixError(`unknown kernel '${name}'\n${USAGE}`);
      o.kernels.push(k);
    } else if (arg === "--exec") o.exec = value();
    else if (arg === "--filter") o.filters.push(value());
    else if (arg === "--timeout") {
      o.timeoutSeconds = Number(value());
      if (!(o.timeoutSeconds > 0)) throw new MatrixError(`--timeout needs a positive number of seconds`);
    } else if (arg === "--no-docs") o.docs = false;
    else if (arg === "--verbose") o.verbose = true;
    else if (arg === "--help" || arg === "-h") throw new MatrixError(USAGE);
    else throw new MatrixError(`unknown argument '${arg}'\n${USAGE}`);
  }
  if (o.exec !== undefined) {
    if (o.kernels.length !== 1 || !o.kernels[0]!.pkg)
      throw new MatrixError(`--exec needs exactly one --kernel (not host)\n${USAGE}`);
    o.timeoutSeconds ||= 300;
  }
  if (o.kernels.length === 0) o.kernels = [...KERNELS];
  o.timeoutSeconds ||= 900;
  return o;
}

/** Boots one kernel and runs a shell command in the project directory; returns its exit code. */
async function execMode(o: Options, root: string): Promise<number> {
  const entry = o.kernels[0]!;
  ensureHostTools(log);
  const kernel = prepareKernel(entry, log);
  const initrd = initramfsFor(kernel, BOOT_MODULES);
  const dir = resultsDir(root, entry.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "job.sh"),
    [sharedDir(root) ? `export TSBPF_SHARED='${sharedDir(root)}'` : "", o.exec!, ""].join("\n"),
  );
  const r = await boot({
    kernel,
    initrd,
    shares: shares(root),
    cwd: root,
    jobDir: dir,
    timeoutSeconds: o.timeoutSeconds,
    consoleLog: join(dir, "console.log"),
    onJobLine: (line) => process.stdout.write(line + "\n"),
    onRetry: (tail) =>
      log(`${entry.name}: the guest died before the command began, booting again (${guestDeath(tail)})`),
  });
  log(
    `${entry.name} (${kernel.release}): boot ${r.bootSeconds?.toFixed(1) ?? "-"} s, command ${r.jobSeconds?.toFixed(1) ?? "-"} s, total ${r.totalSeconds.toFixed(1)} s`,
  );
  if (r.exitCode === undefined) {
    throw new MatrixError(
      `${entry.name}: the guest wrote no exit code${r.timedOut ? ` (timed out after ${o.timeoutSeconds} s)` : ""}; console (${join(dir, "console.log")}) ends with:\n${r.tail.slice(-15).join("\n")}`,
    );
  }
  return r.exitCode;
}

/** Runs the matrix (or exec mode) and returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const root = projectRoot();
  const release = lockResults(root);
  try {
    return await (o.exec !== undefined ? execMode(o, root) : runMatrix(o, root));
  } finally {
    release();
  }
}
