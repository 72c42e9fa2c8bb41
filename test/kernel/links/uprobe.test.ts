import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { attachUprobe, attachUprobeMulti, attachUretprobe } from "../../../src/kernel/links/index.js";
import { AttachType, LinkType } from "../../../src/kernel/sys/index.js";
import {
  findLibraryInLdCache,
  findLibraryInMaps,
  parseLdCache,
  parseProcMaps,
  symbolFileOffset,
} from "../../../src/kernel/uprobe/index.js";
import { describeKernel, kernelTest } from "../../helpers/kernel-gate.js";
import { count, counterMap, countingProgram } from "./helpers.js";

const SOURCE = `
#include <unistd.h>
#include <stdio.h>
__attribute__((noinline)) int tsbpf_target(int x) { __asm__ volatile(""); return x * 2; }
__attribute__((noinline)) int tsbpf_other(int x) { __asm__ volatile(""); return x + 1; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1, s = 0;
  for (int i = 0; i < n; i++) { s += tsbpf_target(i); s += getpid() & 1; }
  s += tsbpf_other(s);
  printf("%d\\n", s);
  return 0;
}`;

let dir: string;
let binary: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-uprobe-"));
  writeFileSync(join(dir, "target.c"), `#include <stdlib.h>\n${SOURCE}`);
  binary = join(dir, "target");
  execFileSync("cc", ["-O1", "-o", binary, join(dir, "target.c")]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("symbol file offsets match nm and the PT_LOAD arithmetic", () => {
  const nm = execFileSync("nm", [binary], { encoding: "utf8" });
  const addr = Number.parseInt(/^([0-9a-f]+) T tsbpf_target$/m.exec(nm)![1]!, 16);
  const off = symbolFileOffset(binary, "tsbpf_target");
  assert.equal(off.address, addr);
  const objdump = execFileSync("readelf", ["-lW", binary], { encoding: "utf8" });
  const loads = [
    ...objdump.matchAll(/LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) \S+ 0x[0-9a-f]+ 0x([0-9a-f]+)/g),
  ].map((m) => ({
    offset: Number.parseInt(m[1]!, 16),
    vaddr: Number.parseInt(m[2]!, 16),
    memsz: Number.parseInt(m[3]!, 16),
  }));
  const seg = loads.find((l) => addr >= l.vaddr && addr < l.vaddr + l.memsz)!;
  assert.equal(off.offset, addr - seg.vaddr + seg.offset);
  assert.throws(() => symbolFileOffset(binary, "no_such_function"), /no function 'no_such_function'/);
});

test("libc is found through /proc/self/maps and ld.so.cache; getpid is in its .dynsym", () => {
  const mapped = findLibraryInMaps("c");
  assert.ok(mapped && /libc\.so\.6$/.test(mapped), String(mapped));
  const cached = findLibraryInLdCache("libc.so.6");
  assert.ok(cached && /libc\.so\.6$/.test(cached), String(cached));
  assert.ok(symbolFileOffset(mapped, "getpid").offset > 0);
});

test("parsers: /proc/PID/maps lines and a hand-made ld.so.cache", () => {
  const maps = parseProcMaps(
    "7f00-7f10 r-xp 00001000 08:01 1234  /usr/lib/libz.so.1 (deleted)\n55-56 rw-p 0 00:00 0 [heap]\n",
  );
  assert.equal(maps.length, 2);
  assert.equal(maps[0]!.path, "/usr/lib/libz.so.1");
  assert.equal(maps[0]!.offset, 0x1000n);
  // One entry "libx.so.1" -> "/l/libx.so.1".
  const strings = Buffer.from("libx.so.1\0/l/libx.so.1\0");
  const head = Buffer.alloc(48);
  head.write("glibc-ld.so.cache1.1", 0, "latin1");
  head.writeUInt32LE(1, 20);
  const entry = Buffer.alloc(24);
  entry.writeInt32LE(0x0303, 0);
  entry.writeUInt32LE(72, 4);
  entry.writeUInt32LE(82, 8);
  const cache = parseLdCache(Buffer.concat([head, entry, strings]));
  assert.deepEqual(cache, [{ flags: 0x0303, name: "libx.so.1", path: "/l/libx.so.1", hwcap: 0n }]);
  assert.throws(() => parseLdCache(Buffer.from("nonsense")), /new format/);
});

describeKernel("uprobes on the running kernel", () => {
  const map = counterMap();
  after(() => map.close());
  const reset = (): void => map.update(new Uint8Array(4), new Uint8Array(8));
  const run = (n: number): void => void execFileSync(binary, [String(n)]);

  kernelTest("uprobe on a function of a compiled binary counts each call", () => {
    reset();
    using prog = countingProgram(map, { type: "kprobe" });
    using link = attachUprobe(prog, { target: binary, symbol: "tsbpf_target" });
    run(5);
    assert.equal(count(map), 5n);
    assert.equal(link.info().type, LinkType.PERF_EVENT);
  });

  kernelTest("uretprobe fires on return", () => {
    reset();
    using prog = countingProgram(map, { type: "kprobe" });
    using _link = attachUretprobe(prog, { target: binary, symbol: "tsbpf_other" });
    run(3);
    assert.equal(count(map), 1n);
  });

  kernelTest("uprobe on libc getpid found by library name", () => {
    reset();
    using prog = countingProgram(map, { type: "kprobe" });
    using _link = attachUprobe(prog, { target: "c", symbol: "getpid" });
    run(4);
    assert.ok(count(map) >= 4n, `count ${count(map)}`);
  });

  kernelTest("uprobe.multi on two functions", { requires: ["uprobe-multi"] }, () => {
    reset();
    using prog = countingProgram(map, { type: "kprobe", expectedAttachType: AttachType.TRACE_UPROBE_MULTI });
    using link = attachUprobeMulti(prog, { target: binary, symbols: ["tsbpf_target", "tsbpf_other"] });
    run(3);
    assert.equal(count(map), 4n);
    assert.equal(link.info().type, LinkType.UPROBE_MULTI);
  });
});
