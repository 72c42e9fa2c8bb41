import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { frameColor, nameHash, parseFolded, renderFlameGraph } from "../../src/tools/common/flamegraph.js";
import {
  StackReader,
  decodeStack,
  foldedLine,
  formatStackLines,
  mergeFolded,
  stackIdError,
  symbolizeStacks,
} from "../../src/tools/common/stacks.js";
import { KernelSymbols, Symbolizer, formatSymbol } from "../../src/tools/common/symbolize.js";
import { kernelTest } from "../helpers/kernel-gate.js";
import { tsbpfBin } from "../helpers/shared.js";
import {
  buildC,
  chromiumPath,
  decodePng,
  distinctColours,
  runTool,
  screenshot,
  startTool,
  startProgram,
  tempDir,
} from "./profiling-helpers.js";

const KALLSYMS = `ffffffff81000000 T _stext
ffffffff81001000 t do_one_initcall
ffffffff81001000 D some_data
ffffffff81002000 T schedule
ffffffffc0001000 t nf_hook [nf_tables]
ffffffffc0002000 t nf_other [nf_tables]
`;

describe("symbolize", () => {
  test("kallsyms: the function containing an address, offsets, modules, data skipped", () => {
    const k = KernelSymbols.parse(KALLSYMS);
    assert.equal(k.size, 5);
    assert.deepEqual(k.resolve(0xffffffff81001010n), {
      name: "do_one_initcall",
      offset: 0x10,
      module: "kernel",
    });
    assert.equal(k.resolve(0xffffffff81002000n).name, "schedule");
    assert.deepEqual(k.resolve(0xffffffffc0001004n), { name: "nf_hook", offset: 4, module: "nf_tables" });
    assert.equal(k.resolve(0xffffffff80000000n).name, "[unknown]");
    assert.equal(
      formatSymbol(k.resolve(0xffffffffc0001004n), { offset: true, module: true }),
      "nf_hook+0x4 [nf_tables]",
    );
  });

  test("the running kernel's kallsyms names schedule", () => {
    const k = KernelSymbols.load();
    const addr = k.address("schedule");
    if (addr === undefined) return; // kptr_restrict: addresses hidden
    assert.equal(k.resolve(addr + 4n).name, "schedule");
  });

  test("user addresses of a running PIE program: own functions (.symtab) and libc (.dynsym) with load bias", async (t) => {
    const tmp = tempDir("sym");
    t.after(tmp.remove);
    const exe = buildC(
      tmp.dir,
      "addrs",
      `#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int tsbpf_marker_fn(int x) { return x * 3 + 1; }
int main(void) {
  printf("%p %p %p\\n", (void *)tsbpf_marker_fn, (void *)main, (void *)&getpid);
  fflush(stdout);
  pause();
  return tsbpf_marker_fn(2);
}`,
      ["-fPIE", "-pie"],
    );
    const child = await startProgramLine(exe);
    t.after(() => child.proc.kill());
    const [fn, main, getpid] = child.line
      .trim()
      .split(" ")
      .map((h) => BigInt(h));
    const sym = new Symbolizer();
    assert.deepEqual(sym.user(child.proc.pid!, fn! + 3n), {
      name: "tsbpf_marker_fn",
      offset: 3,
      module: "addrs",
    });
    assert.equal(sym.user(child.proc.pid!, main!).name, "main");
    const libc = sym.user(child.proc.pid!, getpid!);
    assert.match(libc.name, /getpid/);
    assert.match(libc.module ?? "", /^libc/);
    assert.equal(sym.user(999_999_999, 0x1000n).name, "[unknown]", "a process that does not exist");
    assert.equal(sym.user(child.proc.pid!, 0x10n).name, "[unknown]", "an unmapped address");
  });
});

/** Starts a program and returns its first stdout line. */
async function startProgramLine(
  exe: string,
): Promise<{ proc: import("node:child_process").ChildProcess; line: string }> {
  const { spawn } = await import("node:child_process");
  const proc = spawn(exe, [], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    proc.on("error", reject);
  });
  return { proc, line };
}

describe("stacks", () => {
  const u64s = (...v: bigint[]): Uint8Array => {
    const b = new Uint8Array(127 * 8);
    v.forEach((x, i) => new DataView(b.buffer).setBigUint64(i * 8, x, true));
    return b;
  };

  test("decodeStack stops at the first zero; stack id errors are BCC's", () => {
    assert.deepEqual(decodeStack(u64s(1n, 2n, 3n)), [1n, 2n, 3n]);
    assert.deepEqual(decodeStack(u64s()), []);
    assert.equal(stackIdError(-14), false, "-EFAULT: no stack of that kind");
    assert.equal(stackIdError(-12), true, "-ENOMEM");
    assert.equal(stackIdError(3), false);
  });

  test("BCC listing and folded lines, with and without the delimiter", () => {
    const map = new Map([
      [1, u64s(0xffffffff81002004n, 0xffffffff81001000n)],
      [2, u64s(0x10n)],
    ]);
    const reader = new StackReader({
      lookup: (k) => map.get(new DataView(k.buffer).getUint32(0, true)),
    });
    // A symbolizer over fixed kallsyms text, written to a temporary file.
    const tmp = tempDir("kallsyms");
    try {
      const path = join(tmp.dir, "kallsyms");
      writeFileSync(path, KALLSYMS);
      const sym = new Symbolizer({ kallsyms: path });
      const [s] = symbolizeStacks(
        [{ pid: 999_999_999, comm: "busy", userStackId: 2, kernelStackId: 1, value: 7 }],
        reader,
        sym,
      );
      assert.equal(
        formatStackLines(s!),
        "    schedule\n    do_one_initcall\n    [unknown]\n    -                busy (999999999)\n        7\n\n",
      );
      assert.equal(
        formatStackLines(s!, { delimiter: true }),
        "    schedule\n    do_one_initcall\n    --\n    [unknown]\n    -                busy (999999999)\n        7\n\n",
      );
      assert.equal(foldedLine(s!), "busy;[unknown];do_one_initcall;schedule 7");
      assert.equal(foldedLine(s!, { delimiter: true }), "busy;[unknown];-;do_one_initcall;schedule 7");
      const [missed] = symbolizeStacks(
        [{ pid: 1, comm: "k thread", userStackId: -14, kernelStackId: -12, value: 1 }],
        reader,
        sym,
      );
      assert.equal(foldedLine(missed!), "k thread;[Missed Kernel Stack] 1");
      assert.deepEqual([...mergeFolded([s!, s!])], [["busy;[unknown];do_one_initcall;schedule", 14]]);
    } finally {
      tmp.remove();
    }
  });
});

describe("flamegraph", () => {
  const folded = parseFolded("main;a;b 3\nmain;a;c 1\nmain;d 4\n\nbad line\n");

  test("frames merged and laid out by value: widths add up, sorted by name", () => {
    assert.equal(folded.length, 3);
    const svg = renderFlameGraph(folded, { title: "T <&>" });
    assert.match(svg, /^<\?xml/);
    assert.match(svg, /<text id="title"[^>]*>T &lt;&amp;&gt;<\/text>/);
    const rects = [
      ...svg.matchAll(/<title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"/g),
    ];
    const byName = new Map(rects.map((m) => [m[1]!.split(" (")[0]!, { x: +m[2]!, y: +m[3]!, w: +m[4]! }]));
    assert.deepEqual([...byName.keys()].sort(), ["a", "all", "b", "c", "d", "main"]);
    assert.equal(byName.get("all")!.w, 1180);
    assert.equal(byName.get("main")!.w, 1180);
    assert.ok(Math.abs(byName.get("a")!.w + byName.get("d")!.w - 1180) < 0.2);
    assert.ok(byName.get("a")!.x < byName.get("d")!.x, "children sorted by name");
    assert.ok(byName.get("b")!.y < byName.get("a")!.y, "children above their parent");
    assert.match(svg, /<title>a \(4 samples, 50\.00%\)<\/title>/);
    assert.match(svg, /<title>all \(8 samples, 100%\)<\/title>/);
  });

  test("the script is valid JavaScript and the palette is flamegraph.pl's hot one, hashed by name", () => {
    const svg = renderFlameGraph(folded);
    const script = /<!\[CDATA\[([\s\S]*)\]\]>/.exec(svg)![1]!;
    assert.doesNotThrow(() => new Function(script));
    for (const name of ["main", "schedule", "x"]) {
      const [r, g, b] = /rgb\((\d+),(\d+),(\d+)\)/.exec(frameColor(name))!.slice(1).map(Number);
      assert.ok(r! >= 205 && r! <= 255 && g! <= 230 && b! <= 55, `${name}: ${frameColor(name)}`);
      assert.equal(frameColor(name), frameColor(name));
    }
    assert.notEqual(frameColor("main"), frameColor("schedule"));
    assert.ok(nameHash("abc") > 0 && nameHash("abc") <= 1);
    assert.equal(frameColor("-"), "rgb(200,200,200)");
  });

  test("no samples: an empty but valid picture", () => {
    const svg = renderFlameGraph([]);
    assert.match(svg, /<\/svg>\n$/);
    assert.doesNotMatch(svg, /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="15.0"/);
  });
});

const BUSY = `#include <stdio.h>
#include <time.h>
#include <unistd.h>
volatile unsigned long sink;
void tsbpf_busy_leaf(void) { for (int i = 0; i < 20000; i++) sink += i; }
void tsbpf_busy_loop(void) { for (;;) tsbpf_busy_leaf(); }
int main(void) { printf("ready\\n"); fflush(stdout); tsbpf_busy_loop(); return 0; }
`;

kernelTest("profile -f -p finds the busy loop of a child process; --svg renders in Chromium", async (t) => {
  const tmp = tempDir("profile");
  t.after(tmp.remove);
  const busy = await startProgram(buildC(tmp.dir, "busy", BUSY));
  t.after(() => busy.kill("SIGKILL"));
  const svg = join(tmp.dir, "cpu.svg");
  const r = await runTool("profile", ["-f", "-F", "99", "-p", String(busy.pid), "--svg", svg, "2"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const mine = lines.filter((l) => l.includes("tsbpf_busy_loop"));
  assert.ok(mine.length > 0, `no tsbpf_busy_loop in:\n${r.stdout}`);
  for (const l of lines) assert.match(l, /^busy;.* \d+$/, "only the process asked for");
  assert.ok(
    mine.some((l) => /;main;tsbpf_busy_loop;tsbpf_busy_leaf/.test(l)),
    r.stdout,
  );
  const samples = mine.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  assert.ok(samples >= 10, `only ${samples} samples of the busy loop in 2 s at 99 Hz`);
  const text = readFileSync(svg, "utf8");
  assert.match(text, /<title>tsbpf_busy_loop \(/);

  const chromium = chromiumPath();
  if (!chromium) {
    t.diagnostic("chromium is not installed (apt-get install -y chromium): SVG rendering not checked");
    if (process.env.TSBPF_KERNEL_TESTS === "require") assert.fail("chromium missing");
    return;
  }
  const img = decodePng(screenshot(chromium, svg));
  assert.ok(img.width >= 800 && img.height >= 200, `${img.width}x${img.height}`);
  assert.ok(distinctColours(img) > 20, `only ${distinctColours(img)} colours: blank rendering?`);
});

kernelTest(
  "profile prints BCC's listing for the whole system and exits on SIGINT-free duration",
  async () => {
    const running = runTool("profile", ["-K", "-F", "49", "1"]);
    await busyFor(2500);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Sampling at 49 Hertz of all threads by kernel stack for 1 secs\.\.\. Hit Ctrl-C to end\.\n/,
    );
    assert.match(r.stdout, /\n {4}- {16}\S.* \(\d+\)\n {8}\d+\n\n/);
  },
);

/**
 * Keeps this process on a CPU, in and out of the kernel, for `ms`: an idle machine gives the
 * profiler nothing to sample (idle is excluded), so the tests make their own work.
 */
async function busyFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++) statSync("/proc/self/stat");
    await new Promise((r) => setImmediate(r)); // let the child's pipes drain
  }
}

kernelTest("profile --json: one object per stack", async () => {
  const running = runTool("profile", ["--json", "-K", "-F", "49", "1"]);
  await busyFor(2500);
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(objs.length > 0);
  for (const o of objs)
    assert.deepEqual(Object.keys(o), ["pid", "comm", "kernel_stack", "user_stack", "count"]);
});

kernelTest("profile without a duration runs until Ctrl-C, then prints its stacks", async () => {
  const tool = startTool("profile", ["-f", "-K", "-F", "99"]);
  await busyFor(2000);
  assert.equal(tool.child.exitCode, null, "still running before the signal");
  const r = await tool.stop("SIGINT");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\S.* \d+$/m);
});

test("profile rejects -U with -K (usage error, exit 2)", async () => {
  const r = await runTool("profile", ["-U", "-K"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-U and -K are exclusive/);
});

test("the tsbpf NAME aliases run the same tools", () => {
  for (const name of ["profile", "offcputime", "runqlat", "biolatency", "memleak"]) {
    const r = spawnSync(process.execPath, [tsbpfBin, name, "-h"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^usage: tsbpf ${name} \\[-h\\]`));
  }
});
