import assert from "node:assert/strict";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { buildC, runTool, startProgram, tempDir } from "./profiling-helpers.js";

/** Leaks 64 bytes per round in tsbpf_leaky; tsbpf_balanced frees all it takes (malloc, calloc, realloc). */
const LEAKY = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
void *keep[100000];
int n;
void tsbpf_leaky(void) { keep[n++ % 100000] = malloc(64); }
void tsbpf_balanced(void) { void *p = malloc(128); free(p); void *q = calloc(4, 32); q = realloc(q, 256); free(q); }
int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : -1;
  printf("ready\\n"); fflush(stdout);
  for (int i = 0; rounds < 0 || i < rounds; i++) { tsbpf_leaky(); tsbpf_balanced(); usleep(20000); }
  pause();
  return 0;
}
`;

kernelTest(
  "memleak -p finds the deliberate leak of a C program, by stack, and not the balanced allocations",
  async (t) => {
    const tmp = tempDir("memleak");
    t.after(tmp.remove);
    const leaky = await startProgram(buildC(tmp.dir, "leaky", LEAKY));
    t.after(() => leaky.kill("SIGKILL"));
    const r = await runTool("memleak", ["-p", String(leaky.pid), "-o", "100", "2", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^Attaching to pid ${leaky.pid}, Ctrl\\+C to quit\\.\\n\\[\\d\\d:\\d\\d:\\d\\d\\] Top 10 stacks with outstanding allocations:\\n`,
      ),
    );
    const m =
      /\t(\d+) bytes in (\d+) allocations from stack\n\t\t0x[0-9a-f]{16}\ttsbpf_leaky\+0x[0-9a-f]+ \[leaky\]\n\t\t0x[0-9a-f]{16}\tmain\+0x[0-9a-f]+ \[leaky\]/.exec(
        r.stdout,
      );
    assert.ok(m, r.stdout);
    const [bytes, count] = [Number(m[1]), Number(m[2])];
    assert.equal(bytes, 64 * count);
    assert.ok(count >= 40 && count <= 110, `${count} leaks in ~2 s at 50/s`);
    assert.doesNotMatch(r.stdout, /tsbpf_balanced/, "freed allocations are not outstanding");
  },
);

kernelTest(
  "memleak -c runs the command stopped until the probes are in place, --json per stack",
  async (t) => {
    const tmp = tempDir("memleak");
    t.after(tmp.remove);
    const exe = buildC(tmp.dir, "leaky", LEAKY);
    const r = await runTool("memleak", ["-c", `${exe} 30`, "-o", "0", "--json", "2", "1"]);
    assert.equal(r.code, 0, r.stderr);
    // The command shares the terminal: its own "ready" line is in the output too.
    const objs = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { bytes: number; allocations: number; stack: string[] });
    const leak = objs.find((o) => o.stack[0]?.startsWith("tsbpf_leaky+"));
    assert.ok(leak, r.stdout);
    assert.deepEqual(
      [leak.bytes, leak.allocations],
      [64 * 30, 30],
      "every one of the 30 leaks, from the first",
    );
  },
);

test("memleak needs -p or -c", async () => {
  const r = await runTool("memleak", []);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-p PID or -c COMMAND/);
});
