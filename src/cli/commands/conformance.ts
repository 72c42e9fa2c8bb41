import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { TsbpfError } from "../../errors.js";
import { decode } from "../../isa/codec.js";
import {
  runConformanceProgram,
  runConformanceTest,
  type ConformanceOutcome,
} from "../../vm/conformance/runner.js";
import { hexBytes, parseCommandArgs } from "../args.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

async function dataFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new UsageError(`no such file or directory: ${p}`);
    if (s.isDirectory())
      files.push(
        ...(await readdir(p))
          .filter((n) => n.endsWith(".data"))
          .sort()
          .map((n) => join(p, n)),
      );
    else files.push(p);
  }
  return files;
}

/**
 * The upstream runner's plugin protocol: argv holds the memory as hex bytes (and plugin options),
 * stdin one line of hex bytecode; print r0 in hex, or an error message with a non-zero exit.
 */
async function plugin(positionals: readonly string[], io: CommandIO): Promise<number> {
  try {
    const mem = hexBytes("memory", positionals[0] ?? "");
    const program = decode(hexBytes("program", (await io.readStdin()).trim()), { file: "<stdin>" });
    io.out(runConformanceProgram(program, mem).toString(16));
    return 0;
  } catch (e) {
    io.out(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

const conformance: Command = {
  usage:
    "conformance DIR|FILE... [--expect-reject] [--json]\n" +
    "       tsbpf conformance --plugin [MEMORY-HEX] [OPTIONS]   (program as hex bytes on stdin)",
  async run(args, io) {
    if (args[0] === "--plugin") return plugin(args.slice(1), io);
    const { values, positionals } = parseCommandArgs(args, {
      "expect-reject": { type: "boolean" },
      json: { type: "boolean" },
    });
    if (positionals.length === 0) throw new UsageError("missing DIR or FILE");
    const files = await dataFiles(positionals);
    if (files.length === 0) throw new UsageError(`no .data files in ${positionals.join(", ")}`);
    const outcomes: ConformanceOutcome[] = [];
    for (const file of files) {
      const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
        throw new TsbpfError(`${file}: ${e.code ?? e.message}`);
      });
      outcomes.push(runConformanceTest(text, file));
    }
    const failed = outcomes.filter((o) => o.status === "fail");
    const passed = outcomes.length - failed.length;
    if (values.json) {
      io.out(
        JSON.stringify({
          passed,
          failed: failed.length,
          tests: outcomes.map((o) => ({
            ...o,
            r0: o.r0 === undefined ? undefined : `0x${o.r0.toString(16)}`,
          })),
        }),
      );
    } else if (values["expect-reject"]) {
      for (const o of outcomes)
        io.out(
          o.status === "fail" ? `rejected ${o.file}: ${o.reason}` : `ACCEPTED ${o.file} (should be rejected)`,
        );
      io.out(`${failed.length} rejected, ${passed} accepted`);
    } else {
      for (const o of failed) io.out(`FAIL ${o.file}: ${o.reason}`);
      io.out(`${passed} passed, ${failed.length} failed`);
    }
    return (values["expect-reject"] ? passed : failed.length) === 0 ? 0 : 1;
  },
};
export default conformance;
