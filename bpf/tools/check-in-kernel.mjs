#!/usr/bin/env node
// Runs every `testRun` of bpf/corpus.json in the running kernel with bpftool (root only) and
// compares retval, dataOut and map entries with the manifest. Prints one line per program.
//
//   node bpf/tools/check-in-kernel.mjs [--print] [substring ...]
//
// --load-all also loads the objects without testRun entries. --print also shows the actual values (to fill in the manifest). Each object is loaded with
// `bpftool prog loadall` under a unique /sys/fs/bpf/tsbpf_corpus_<pid>_<n> directory that is
// removed afterwards, also on failure. Objects marked "kernelLoad": false are skipped.
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifest = JSON.parse(readFileSync(join(ROOT, "bpf", "corpus.json"), "utf8"));
const args = process.argv.slice(2);
const print = args.includes("--print");
const loadAll = args.includes("--load-all");
const filters = args.filter((a) => !a.startsWith("--"));
const scratch = mkdtempSync(join(tmpdir(), "tsbpf-corpus-"));
let seq = 0;
let failures = 0;

function bpftool(argv, json = false) {
  const r = spawnSync("bpftool", json ? ["-j", ...argv] : argv, { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `bpftool ${argv.join(" ")}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`,
    );
  return json ? JSON.parse(r.stdout) : r.stdout;
}

/** Input bytes of a manifest field: hex, or "@bpf/testdata/x.bin". */
function bytesOf(spec) {
  return spec.startsWith("@") ? readFileSync(join(ROOT, spec.slice(1))) : Buffer.from(spec, "hex");
}

const hexOf = (arr) => arr.map((b) => b.slice(2)).join("");

/** Map contents as { keyHex: valueHex }; per-CPU values are summed as little-endian u64 words. */
function dumpMap(path) {
  const out = {};
  for (const e of bpftool(["map", "dump", "pinned", path], true)) {
    if (!e.key) continue;
    let value;
    if (e.values) {
      const words = [];
      for (const { value: v } of e.values) {
        const b = Buffer.from(hexOf(v), "hex");
        for (let i = 0; i + 8 <= b.length; i += 8) words[i / 8] = (words[i / 8] ?? 0n) + b.readBigUInt64LE(i);
      }
      const sum = Buffer.alloc(words.length * 8);
      words.forEach((w, i) => sum.writeBigUInt64LE(BigInt.asUintN(64, w), i * 8));
      value = sum.toString("hex");
    } else value = hexOf(e.value);
    out[hexOf(e.key)] = value;
  }
  return out;
}

/** The pinned file of an ELF map name (libbpf pins ".bss" of obj "foo" as "foo_bss" / "foo.bss"). */
function mapPin(dir, name) {
  const files = readdirSync(dir);
  if (files.includes(name)) return join(dir, name);
  const internal = files.find((f) => name.startsWith(".") && f.endsWith(name.replace(/\./g, "_")));
  const dotted = files.find((f) => name.startsWith(".") && f.endsWith(name));
  const hit = internal ?? dotted;
  if (!hit) throw new Error(`map ${name} not pinned (have ${files.join(", ")})`);
  return join(dir, hit);
}

/** syscall / raw_tracepoint programs with a context: bpftool 7.1 would add a ctx_out they reject. */
function runWithCtxOnly(pin, argv) {
  const ctxFile = argv[argv.indexOf("ctx_in") + 1];
  const r = spawnSync("python3", [join(ROOT, "bpf", "tools", "test_run_ctx.py"), pin, ctxFile], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`test_run_ctx.py: ${r.stderr.trim().split("\n").pop()}`);
  return r.stdout;
}

function runProgram(obj, prog, dir) {
  const t = prog.testRun;
  const argv = ["prog", "run", "pinned", join(dir, "progs", prog.name)];
  if (t.dataIn) {
    const f = join(scratch, `in-${seq}.bin`);
    writeFileSync(f, bytesOf(t.dataIn));
    argv.push("data_in", f, "data_out", join(scratch, `out-${seq}.bin`));
  }
  if (t.ctxIn) {
    const f = join(scratch, `ctx-${seq}.bin`);
    writeFileSync(f, bytesOf(t.ctxIn));
    argv.push("ctx_in", f);
  }
  argv.push("repeat", String(t.repeat ?? (["raw_tracepoint", "syscall"].includes(prog.type) ? 0 : 1)));
  const out = t.ctxIn && !t.dataIn ? runWithCtxOnly(join(dir, "progs", prog.name), argv) : bpftool(argv);
  const m = /Return value: (\d+)/.exec(out);
  if (!m) throw new Error(`no return value in: ${out.trim()}`);
  const actual = { retval: Number(m[1]) };
  if (t.dataIn) actual.dataOut = readFileSync(join(scratch, `out-${seq}.bin`)).toString("hex");
  const maps = {};
  for (const name of Object.keys(t.maps ?? {})) maps[name] = dumpMap(mapPin(join(dir, "maps"), name));
  const problems = [];
  if (actual.retval !== t.retval) problems.push(`retval ${actual.retval} != ${t.retval}`);
  if (t.dataOut !== undefined && actual.dataOut !== bytesOf(t.dataOut).toString("hex"))
    problems.push(`dataOut ${actual.dataOut} != ${bytesOf(t.dataOut).toString("hex")}`);
  for (const [name, entries] of Object.entries(t.maps ?? {})) {
    for (const { key, value } of entries) {
      const got = maps[name][key];
      if (got !== value) problems.push(`${name}[${key}] = ${got ?? "missing"} != ${value}`);
    }
  }
  if (print) console.log(`    actual: ${JSON.stringify({ ...actual, maps })}`);
  return problems;
}

/** Frames of a classic little-endian pcap file. */
function pcapFrames(buf) {
  const frames = [];
  for (let off = 24; off + 16 <= buf.length;) {
    const len = buf.readUInt32LE(off + 8);
    frames.push(buf.subarray(off + 16, off + 16 + len));
    off += 16 + len;
  }
  return frames;
}

/** Runs every frame of prog.pcapRun through the program; checks per-frame retvals and final maps. */
function runPcap(prog, dir) {
  const t = prog.pcapRun;
  const problems = [];
  const retvals = pcapFrames(bytesOf(t.file)).map((frame, i) => {
    const f = join(scratch, `frame-${seq}-${i}.bin`);
    writeFileSync(f, frame);
    const out = bpftool([
      "prog",
      "run",
      "pinned",
      join(dir, "progs", prog.name),
      "data_in",
      f,
      "repeat",
      "1",
    ]);
    return Number(/Return value: (\d+)/.exec(out)?.[1]);
  });
  if (JSON.stringify(retvals) !== JSON.stringify(t.retvals))
    problems.push(`pcap retvals ${retvals} != ${t.retvals}`);
  for (const [name, entries] of Object.entries(t.maps ?? {})) {
    const got = dumpMap(mapPin(join(dir, "maps"), name));
    for (const { key, value } of entries)
      if (got[key] !== value) problems.push(`${name}[${key}] = ${got[key] ?? "missing"} != ${value}`);
  }
  if (print) console.log(`    actual pcap retvals: ${retvals}`);
  return problems;
}

function report(label, problems) {
  failures += problems.length ? 1 : 0;
  console.log(
    `${problems.length ? "FAIL" : "ok  "} ${label}${problems.length ? ": " + problems.join("; ") : ""}`,
  );
}

/** Loads obj under a fresh bpffs directory, runs fn(dir), removes the directory even on failure. */
function withLoaded(obj, fn) {
  const dir = `/sys/fs/bpf/tsbpf_corpus_${process.pid}_${seq++}`;
  try {
    mkdirSync(dir);
    const load = ["prog", "loadall", join(ROOT, obj.object), join(dir, "progs")];
    if (obj.loadType) load.push("type", obj.loadType);
    load.push("pinmaps", join(dir, "maps"));
    bpftool(load);
    fn(dir);
  } catch (e) {
    report(obj.object, [e.message]);
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

const attempt = (fn) => {
  try {
    return fn();
  } catch (e) {
    return [e.message];
  }
};

for (const obj of manifest.objects) {
  const runnable = obj.programs.filter((p) => p.testRun);
  if ((runnable.length === 0 && !loadAll) || obj.kernelLoad === false) continue;
  if (filters.length && !filters.some((f) => obj.object.includes(f))) continue;
  withLoaded(obj, (dir) => {
    if (runnable.length === 0) report(`${obj.object} loaded (no testRun)`, []);
    for (const prog of runnable) {
      seq++;
      report(
        `${obj.object} ${prog.name}`,
        attempt(() => runProgram(obj, prog, dir)),
      );
    }
  });
  for (const prog of obj.programs.filter((p) => p.pcapRun))
    withLoaded(obj, (dir) =>
      report(
        `${obj.object} ${prog.name} pcap`,
        attempt(() => runPcap(prog, dir)),
      ),
    );
}
rmSync(scratch, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
