#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's built-in test runner.
// Node 20's --test takes no globs, so the file list is built here. Extra arguments are
// substrings that select test files (e.g. `npm test -- isa/`).
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("../dist/test", import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
})(root);
const selected = filters.length
  ? files.filter((f) => filters.some((s) => relative(root, f).includes(s)))
  : files;
if (selected.length === 0) {
  console.error("no test files selected");
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ["--enable-source-maps", "--test", "--test-concurrency=2", ...selected],
  {
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
