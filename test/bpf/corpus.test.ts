// The BPF C corpus in bpf/: every source has its committed object, the objects are reproducible
// with scripts/build-bpf.mjs, and bpf/corpus.json names objects, programs and sections that exist.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ElfFile, STT_FUNC } from "../../src/elf/index.js";

/** The repository root: works from test/bpf (tsx) and from dist/test/bpf (compiled). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "scripts", "build-bpf.mjs"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found above the test file");
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
const BPF = join(ROOT, "bpf");

interface TestRun {
  dataIn?: string;
  ctxIn?: string;
  dataOut?: string;
  retval: number;
  maps?: Record<string, { key: string; value: string }[]>;
}
interface PcapRun {
  file: string;
  retvals: number[];
  maps?: Record<string, { key: string; value: string }[]>;
}
interface ManifestProgram {
  name: string;
  section: string;
  type: string;
  testRun?: TestRun;
  pcapRun?: PcapRun;
}
interface ManifestObject {
  object: string;
  kernelLoad?: boolean;
  loadType?: string;
  programs: ManifestProgram[];
}

const manifest = JSON.parse(readFileSync(join(BPF, "corpus.json"), "utf8")) as { objects: ManifestObject[] };

function walk(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, suffix));
    else if (name.endsWith(suffix)) out.push(relative(ROOT, p));
  }
  return out;
}

const sources = walk(BPF, ".bpf.c");
const objects = walk(BPF, ".bpf.o");

function hasTool(tool: string): boolean {
  const r = spawnSync(tool, ["--version"], { encoding: "utf8" });
  return !r.error && r.status === 0;
}

const HEX = /^([0-9a-f]{2})*$/;

/** Bytes named by a manifest field: hex or "@path" relative to the repository root. */
function fieldBytes(spec: string): Buffer {
  return spec.startsWith("@") ? readFileSync(join(ROOT, spec.slice(1))) : Buffer.from(spec, "hex");
}

describe("bpf corpus", () => {
  it("has at least 30 programs, one object per source", () => {
    assert.ok(sources.length >= 30, `only ${sources.length} sources`);
    assert.deepEqual(
      objects,
      sources.map((s) => s.replace(/\.c$/, ".o")),
    );
  });

  it(
    "commits every object next to its source",
    { skip: !existsSync(join(ROOT, ".git")) && "no git checkout" },
    () => {
      const r = spawnSync("git", ["ls-files", "bpf"], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const tracked = new Set(r.stdout.split("\n"));
      for (const src of sources) {
        assert.ok(tracked.has(src), `${src} is not committed`);
        assert.ok(tracked.has(src.replace(/\.c$/, ".o")), `${src.replace(/\.c$/, ".o")} is not committed`);
      }
      assert.ok(!tracked.has("bpf/vmlinux.h"), "bpf/vmlinux.h must not be committed");
    },
  );

  it("lists every object in the manifest exactly once (the tools' objects in bpf/tools are tested by their tools)", () => {
    const listed = manifest.objects.map((o) => o.object);
    const corpus = objects.filter((o) => !o.startsWith("bpf/tools/"));
    assert.deepEqual([...listed].sort(), [...corpus].sort());
  });

  for (const obj of manifest.objects) {
    it(`${obj.object}: programs exist as functions in their sections`, () => {
      const elf = ElfFile.parse(readFileSync(join(ROOT, obj.object)), obj.object);
      assert.equal(elf.machine, 247, "not an EM_BPF object");
      const funcs = elf.symbols.filter((s) => s.type === STT_FUNC && s.sectionIndex > 0);
      const inProgramSections = funcs.filter((s) => {
        const sec = elf.sections[s.sectionIndex];
        return sec !== undefined && sec.name !== ".text";
      });
      // the manifest names every entry point of the object, no more, no less
      assert.deepEqual(obj.programs.map((p) => p.name).sort(), inProgramSections.map((s) => s.name).sort());
      for (const prog of obj.programs) {
        const sym = elf.symbol(prog.name);
        assert.ok(sym, `${prog.name} missing`);
        assert.equal(elf.sections[sym.sectionIndex]?.name, prog.section, `${prog.name} section`);
        assert.ok(prog.type.length > 0);
      }
    });

    for (const prog of obj.programs.filter((p) => p.testRun)) {
      it(`${obj.object} ${prog.name}: testRun is well formed`, () => {
        const t = prog.testRun!;
        assert.ok(Number.isInteger(t.retval) && t.retval >= 0 && t.retval <= 0xffffffff, "retval is a u32");
        for (const field of [t.dataIn, t.ctxIn, t.dataOut]) {
          if (field === undefined) continue;
          if (field.startsWith("@")) assert.ok(existsSync(join(ROOT, field.slice(1))), `${field} missing`);
          else assert.match(field, HEX);
        }
        if (t.dataIn)
          assert.ok(fieldBytes(t.dataIn).length >= 14, "packets hold at least an Ethernet header");
        for (const [map, entries] of Object.entries(t.maps ?? {})) {
          assert.ok(map.length > 0);
          for (const e of entries) {
            assert.match(e.key, HEX);
            assert.match(e.value, HEX);
          }
        }
      });
    }
  }

  it("pcap runs name existing captures with one retval per frame", () => {
    for (const obj of manifest.objects)
      for (const prog of obj.programs) {
        if (!prog.pcapRun) continue;
        const buf = fieldBytes(prog.pcapRun.file);
        assert.equal(buf.readUInt32LE(0), 0xa1b2c3d4, "little-endian pcap magic");
        let frames = 0;
        for (let off = 24; off + 16 <= buf.length; off += 16 + buf.readUInt32LE(off + 8)) frames++;
        assert.equal(prog.pcapRun.retvals.length, frames);
      }
  });

  describe("build-bpf.mjs", () => {
    const clang = process.env.CLANG ?? "clang-19";
    const noClang = !hasTool(clang) && `${clang} not installed: cannot rebuild objects`;

    it("rebuilds objects byte for byte (relative paths, per-file -mcpu)", { skip: noClang }, () => {
      const out = mkdtempSync(join(tmpdir(), "tsbpf-build-bpf-"));
      try {
        const picks = ["bpf/maps/array.bpf.c", "bpf/lang/cpu_v4.bpf.c", "bpf/lang/atomics_v3.bpf.c"];
        const r = spawnSync(
          process.execPath,
          [join(ROOT, "scripts", "build-bpf.mjs"), "--out-dir", out, "--skip-vmlinux", ...picks],
          { cwd: ROOT, encoding: "utf8" },
        );
        assert.equal(r.status, 0, r.stderr);
        for (const src of picks) {
          const obj = src.replace(/\.c$/, ".o");
          const rebuilt = readFileSync(join(out, relative("bpf", obj)));
          assert.ok(rebuilt.equals(readFileSync(join(ROOT, obj))), `${obj} differs from a fresh build`);
          assert.ok(!rebuilt.includes(Buffer.from(ROOT)), `${obj} leaks the checkout path`);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });

    it("fails with a clear message when clang is missing", () => {
      const r = spawnSync(
        process.execPath,
        [join(ROOT, "scripts", "build-bpf.mjs"), "bpf/maps/array.bpf.c"],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, CLANG: "clang-tsbpf-missing" },
        },
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /build-bpf: clang-tsbpf-missing not found in PATH/);
    });
  });
});
