#!/usr/bin/env node
// Refreshes the command outputs pasted in README.md: every `<!-- $ CMD -->` line is followed by a
// fenced block that this script replaces with `$ CMD` and what CMD really printed (stdout+stderr).
// `tsbpf` in CMD runs this checkout's bin/tsbpf.js. Run after `npm run build`, as root for the
// kernel verbs: `node scripts/update-readme.mjs`.
// `<!-- $ [6.12] CMD -->` runs CMD in a QEMU guest booting that kernel of the kernel matrix
// (`npm run test:kernels -- --kernel 6.12 --exec CMD`), for what this machine's kernel cannot do
// (kprobes): the block shows CMD's output there.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync, execSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const readme = `${root}README.md`;
const lines = readFileSync(readme, "utf8").split("\n");
// `tsbpf` on PATH: this checkout's bin/tsbpf.js (in dist/, which the guests see too).
const binDir = `${root}dist/readme-bin`;
mkdirSync(binDir, { recursive: true });
writeFileSync(`${binDir}/tsbpf`, `#!/bin/sh\nexec node ${root}bin/tsbpf.js "$@"\n`, { mode: 0o755 });
const out = [];
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  out.push(line);
  const m = /^<!-- \$ (?:\[([\w.]+)\] )?(.*) -->$/.exec(line);
  if (!m) continue;
  const [, kernel, cmd] = m;
  const shell = `PATH=${binDir}:$PATH\n${cmd}`;
  let text;
  try {
    text = kernel
      ? execFileSync(
          process.execPath,
          [`${root}scripts/kernel-matrix.mjs`, "--kernel", kernel, "--exec", `{ ${shell}\n} 2>&1`],
          { cwd: root, encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] },
        )
      : execSync(
          `{ ${shell}
} 2>&1`,
          { cwd: root, encoding: "utf8", shell: "/bin/bash", timeout: 120_000 },
        );
  } catch (e) {
    text = `${e.stdout ?? ""}`;
  }
  // skip the old fenced block
  if (lines[i + 1]?.startsWith("```")) {
    i += 2;
    while (i < lines.length && !lines[i].startsWith("```")) i++;
  }
  out.push("```", `$ ${cmd}`, ...text.replace(/\s+$/, "").split("\n"), "```");
  console.error(`ran: ${cmd}`);
}
writeFileSync(readme, out.join("\n"));
