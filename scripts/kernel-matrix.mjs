#!/usr/bin/env node
// Runs the kernel matrix (test/vm-matrix, compiled by tsc into dist/): tsbpf's kernel tests on
// the host kernel and in QEMU guests booting Debian kernels. See docs/kernel-matrix.md.
// Arguments: see test/vm-matrix/main.ts (e.g. --kernel 6.1 --exec 'node -v').
import { existsSync } from "node:fs";

const entry = new URL("../dist/test/vm-matrix/main.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("kernel-matrix: dist/ is missing: run `npx tsc -p .` (npm run test:kernels does)");
  process.exit(2);
}
const { main } = await import(entry.href);
const { MatrixError } = await import(new URL("../dist/test/vm-matrix/host.js", import.meta.url).href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof MatrixError)) throw e;
  console.error(`kernel-matrix: ${e.message}`);
  process.exitCode = 2;
}
