// The lifetime of long-running verbs (src/cli/lifetime.ts): what they hold is released on
// return, on SIGINT/SIGTERM (the verb goes on to print its summary), on a second signal
// (exit 130), at process.exit and after an uncaught exception.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Lifetime } from "../../src/cli/lifetime.js";

const compiled = import.meta.url.endsWith(".js");
const lifetimeUrl = new URL(`../../src/cli/lifetime.${compiled ? "js" : "ts"}`, import.meta.url).href;

/** Runs a child holding a Lifetime whose cleanup writes `closed N` lines into a file. */
async function child(
  mode: "exit" | "throw" | "signal" | "twice",
  signals: NodeJS.Signals[] = [],
): Promise<{ code: number | null; out: string; closed: string }> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-life-"));
  const file = join(dir, "closed");
  const script = `
    import { appendFileSync } from "node:fs";
    const { Lifetime } = await import(${JSON.stringify(lifetimeUrl)});
    const life = new Lifetime();
    life.defer(() => appendFileSync(${JSON.stringify(file)}, "closed 1\\n"));
    life.use({ close: () => appendFileSync(${JSON.stringify(file)}, "closed 2\\n") });
    const mode = ${JSON.stringify(mode)};
    if (mode === "exit") process.exit(3);
    if (mode === "throw") throw new Error("boom");
    console.log("ready");
    if (mode === "signal") {
      await life.untilInterrupted();
      life.close();
      console.log("summary");
    } else await new Promise(() => setInterval(() => {}, 1000));
  `;
  const p = spawn(
    process.execPath,
    [...(compiled ? [] : ["--import", "tsx"]), "--input-type=module", "-e", script],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  p.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
  try {
    if (signals.length) {
      const deadline = Date.now() + 15_000;
      while (!out.includes("ready") && Date.now() < deadline && p.exitCode === null)
        await new Promise((r) => setTimeout(r, 30));
      for (const s of signals) {
        p.kill(s);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(timer);
    let closed = "";
    try {
      closed = readFileSync(file, "utf8");
    } catch {
      // nothing was closed
    }
    return { code, out, closed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("Lifetime: close releases last registered first, once", () => {
  const order: string[] = [];
  const life = new Lifetime();
  life.defer(() => order.push("first"));
  life.use({ close: () => order.push("second") });
  assert.equal(life.interrupted, false);
  life.close();
  life.close();
  assert.deepEqual(order, ["second", "first"]);
});

test("Lifetime: SIGINT ends the wait; the verb closes and prints its summary (exit 0)", async () => {
  const r = await child("signal", ["SIGINT"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /ready\nsummary\n/);
  assert.equal(r.closed, "closed 2\nclosed 1\n");
});

test("Lifetime: a second signal exits at once (130), still releasing everything", async () => {
  const r = await child("twice", ["SIGTERM", "SIGTERM"]);
  assert.equal(r.code, 130);
  assert.equal(r.closed, "closed 2\nclosed 1\n");
});

test("Lifetime: process.exit and an uncaught exception release too", async () => {
  const exit = await child("exit");
  assert.equal(exit.code, 3);
  assert.equal(exit.closed, "closed 2\nclosed 1\n");
  const thrown = await child("throw");
  assert.equal(thrown.code, 1);
  assert.equal(thrown.closed, "closed 2\nclosed 1\n");
});
