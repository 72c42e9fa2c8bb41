import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { FormatError, TsbpfError } from "../../errors.js";
import { parseBtf, type Btf } from "../../btf/Btf.js";
import { dumpC } from "../../btf/dump-c.js";
import { dumpRaw } from "../../btf/dump-raw.js";
import { KERNEL_BTF_DIR, KERNEL_BTF_PATH } from "../../btf/kernel.js";
import { ElfFile } from "../../elf/index.js";
import { UsageError, type Command } from "../command.js";

type Format = "raw" | "c";
const FORMATS: readonly Format[] = ["raw", "c"];

interface BtfArgs {
  readonly file: string;
  readonly format: Format;
  readonly base?: string;
}

function parseArgs(args: readonly string[]): BtfArgs {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError("missing subcommand (dump)");
  if (sub !== "dump") throw new UsageError(`unknown subcommand '${sub}' (dump)`);
  let file: string | undefined;
  let format: Format = "raw";
  let base: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "--format" || flag === "-f") {
      const v = value();
      if (!FORMATS.includes(v as Format)) throw new UsageError(`unknown format '${v}' (c or raw)`);
      format = v as Format;
    } else if (flag === "--base" || flag === "-B") base = value();
    else if (arg.startsWith("-")) throw new UsageError(`unknown option '${arg}'`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (file === undefined) throw new UsageError("missing FILE");
  return { file, format, ...(base !== undefined ? { base } : {}) };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TsbpfError(
      `${file}: cannot read (${code === "ENOENT" ? "no such file" : (code ?? String(e))})`,
    );
  }
}

/** Raw BTF, or the .BTF section of an ELF object. */
async function load(file: string, base: Btf | undefined): Promise<Btf> {
  const bytes = await readBytes(file);
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    const section = ElfFile.parse(bytes, file).section(".BTF");
    if (!section) throw new FormatError("no .BTF section (compile with -g)", file, undefined);
    return parseBtf(section.data, { file: `${file}(.BTF)`, ...(base ? { base } : {}) });
  }
  return parseBtf(bytes, { file, ...(base ? { base } : {}) });
}

const command: Command = {
  usage: "btf dump FILE [--format raw|c] [--base BASE_FILE]",
  async run(args, io) {
    const { file, format, base } = parseArgs(args);
    // module BTF in /sys/kernel/btf is split BTF on top of vmlinux, as bpftool assumes
    const basePath =
      base ??
      (dirname(file) === KERNEL_BTF_DIR && basename(file) !== "vmlinux" ? KERNEL_BTF_PATH : undefined);
    const baseBtf = basePath !== undefined ? await load(basePath, undefined) : undefined;
    const btf = await load(file, baseBtf);
    io.out(format === "c" ? dumpC(btf) : dumpRaw(btf));
    return 0;
  },
};

export default command;
