#!/usr/bin/env node
// Builds the BPF C test corpus: bpf/**/*.bpf.c -> .bpf.o next to each source (committed).
//
//   node scripts/build-bpf.mjs [--out-dir DIR] [--skip-vmlinux] [bpf/x/y.bpf.c ...]
//
// 1. bpf/vmlinux.h is generated from the running kernel's BTF (not committed, gitignored).
// 2. Every source is compiled with clang-19 from the repository root with relative paths and
//    -fdebug-prefix-map, so the objects do not depend on where the checkout lives.
//    A source may add flags with a marker comment: `// tsbpf: -mcpu=v4 -D__TARGET_ARCH_x86`
//    (only -mcpu=v1..v4 and -D... are accepted; the default CPU is v3).
// With --out-dir the objects go to DIR/<path relative to bpf/> instead (used by the determinism test).
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BPF_DIR = "bpf";
const VMLINUX_H = join(BPF_DIR, "vmlinux.h");
const CLANG = process.env.CLANG ?? "clang-19";
const BPFTOOL = process.env.BPFTOOL ?? "bpftool";
const DEFAULT_CPU = "-mcpu=v3";

/** Flags every object is compiled with; per-file marker flags come after these. */
const BASE_FLAGS = [
  "-O2",
  "-g",
  "-target",
  "bpf",
  "-Wall",
  "-Wno-unused-function",
  "-I/usr/include/x86_64-linux-gnu",
  `-I${BPF_DIR}`,
  `-fdebug-prefix-map=${ROOT}=.`,
  "-fdebug-compilation-dir=.",
];

const MARKER = /^\s*\/\/\s*tsbpf:\s*(.*)$/m;
const ALLOWED_FLAG = /^(-mcpu=v[1-4]|-D[A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_]*)?)$/;

function fail(message) {
  console.error(`build-bpf: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { outDir: undefined, skipVmlinux: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out-dir") {
      const v = argv[++i];
      if (v === undefined) fail("--out-dir needs a directory");
      opts.outDir = resolve(v);
    } else if (a === "--skip-vmlinux") opts.skipVmlinux = true;
    else if (a.startsWith("-")) fail(`unknown option ${a}`);
    else opts.files.push(relative(ROOT, resolve(a)));
  }
  return opts;
}

function findSources(dir) {
  const out = [];
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...findSources(rel));
    else if (name.endsWith(".bpf.c")) out.push(rel);
  }
  return out;
}

/** Extra flags from the `// tsbpf:` marker of a source; the CPU defaults to v3. */
function markerFlags(source, file) {
  const m = MARKER.exec(source);
  const flags = m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
  for (const f of flags) {
    if (!ALLOWED_FLAG.test(f)) fail(`${file}: flag ${JSON.stringify(f)} not allowed in the tsbpf: marker`);
  }
  if (!flags.some((f) => f.startsWith("-mcpu="))) flags.unshift(DEFAULT_CPU);
  return flags;
}

function requireTool(tool, hint) {
  const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) fail(`${tool} not found in PATH (${hint})`);
}

function generateVmlinux() {
  const btf = "/sys/kernel/btf/vmlinux";
  const target = join(ROOT, VMLINUX_H);
  if (!existsSync(btf)) {
    if (existsSync(target)) return console.warn(`build-bpf: ${btf} missing, keeping existing ${VMLINUX_H}`);
    fail(`${btf} missing: the kernel has no BTF, cannot generate ${VMLINUX_H}`);
  }
  const r = spawnSync(BPFTOOL, ["btf", "dump", "file", btf, "format", "c"], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (r.error || r.status !== 0) {
    if (existsSync(target))
      return console.warn(`build-bpf: ${BPFTOOL} failed, keeping existing ${VMLINUX_H}`);
    fail(`cannot run ${BPFTOOL} btf dump: ${r.error?.message ?? r.stderr.trim()}`);
  }
  if (!existsSync(target) || readFileSync(target, "utf8") !== r.stdout) writeFileSync(target, r.stdout);
}

function compile(src, outDir) {
  const flags = markerFlags(readFileSync(join(ROOT, src), "utf8"), src);
  const obj = src.replace(/\.c$/, ".o");
  const dest = outDir ? join(outDir, relative(BPF_DIR, obj)) : join(ROOT, obj);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp`;
  const args = [...BASE_FLAGS, ...flags, "-c", src.split(sep).join("/"), "-o", tmp];
  const r = spawnSync(CLANG, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    fail(`${src}: ${CLANG} failed (exit ${r.status})`);
  }
  if (r.stderr) process.stderr.write(r.stderr);
  renameSync(tmp, dest);
  return relative(ROOT, dest);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  requireTool(CLANG, "install Debian's clang-19: apt-get install clang-19, or set CLANG=");
  const sources = opts.files.length > 0 ? opts.files : findSources(BPF_DIR);
  if (sources.length === 0) fail(`no *.bpf.c under ${BPF_DIR}/`);
  const needsVmlinux = sources.some((s) => readFileSync(join(ROOT, s), "utf8").includes('"vmlinux.h"'));
  if (needsVmlinux && !opts.skipVmlinux) generateVmlinux();
  for (const src of sources) {
    if (!src.endsWith(".bpf.c")) fail(`${src}: not a .bpf.c source`);
    console.log(`  BPF  ${compile(src, opts.outDir)}`);
  }
}

main();
