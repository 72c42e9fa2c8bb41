import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FormatError } from "../../src/errors.js";
import { parseBtf, parseBtfExt } from "../../src/btf/index.js";
import { benchObjects, elfSection } from "./fixtures.js";

test(".BTF.ext of the bench objects: func info names the programs, line info quotes the source", () => {
  for (const path of benchObjects()) {
    const btf = parseBtf(elfSection(path, ".BTF"), { file: path });
    const ext = parseBtfExt(elfSection(path, ".BTF.ext"), btf, { file: path });
    const prog = path.split("/").pop()!.replace(".bpf.o", "");
    const funcs = ext.funcInfos.get("xdp");
    assert.ok(funcs && funcs.length >= 1, `${path}: func info for section xdp`);
    assert.equal(funcs[0]!.insnOff, 0);
    assert.equal(btf.typeById(funcs[0]!.typeId).name, prog);
    const lines = ext.lineInfos.get("xdp");
    assert.ok(lines && lines.length > 0);
    const source = readFileSync(path.replace(/\.o$/, ".c"), "utf8").split("\n");
    let prev = -1;
    for (const l of lines) {
      assert.ok(l.insnOff > prev || l.insnOff === prev, "line info sorted by instruction");
      prev = l.insnOff;
      if (!l.fileName.endsWith(".bpf.c")) continue; // lines from included headers
      assert.equal(l.line.trim(), source[l.lineNumber - 1]!.trim(), `${path}:${l.lineNumber}`);
      assert.ok(l.column >= 0);
    }
    assert.equal(ext.funcInfoRecSize, 8);
    assert.equal(ext.lineInfoRecSize, 16);
  }
});

test(".BTF.ext bad input: magic, truncation, records past the end", () => {
  const path = benchObjects()[0]!;
  const btf = parseBtf(elfSection(path, ".BTF"));
  const ext = elfSection(path, ".BTF.ext");
  const bad = (mutate: (b: Uint8Array) => Uint8Array, re: RegExp) => {
    const b = mutate(new Uint8Array(ext)); // a copy: Buffer#slice would share memory
    assert.throws(
      () => parseBtfExt(b, btf, { file: "x.o" }),
      (e: unknown) => e instanceof FormatError && e.file === "x.o" && re.test(e.message),
    );
  };
  bad((b) => ((b[0] = 0), b), /bad \.BTF\.ext magic/);
  bad((b) => b.subarray(0, 10), /truncated/);
  bad((b) => b.subarray(0, b.length - 4), /past the end/);
  bad(
    (b) => (new DataView(b.buffer).setUint32(b[4]! + 8, 0xffffffff, true), b),
    /string offset|past the end/,
  );
});
