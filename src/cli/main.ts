import { TsbpfError } from "../errors.js";
import { UsageError, type CommandIO } from "./command.js";
import { COMMANDS } from "./commands.js";

const defaultIO: CommandIO = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const sections: string[] = [];
  for (const [name, c] of Object.entries(COMMANDS)) {
    const line = `  ${name.padEnd(width)}  ${c.summary}`;
    if (sections.at(-1)?.startsWith(`${c.group}:`)) sections[sections.length - 1] += `\n${line}`;
    else sections.push(`${c.group}:\n${line}`);
  }
  return `usage: tsbpf <command> [options]\n\n${sections.join("\n\n")}\n\nRun 'tsbpf <command> -h' for a command's options.`;
}

/** Entry point of the `tsbpf` program; returns the exit code. */
export async function main(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "-h" || verb === "--help" || verb === "help") {
    io.out(help());
    return verb === undefined ? 2 : 0;
  }
  const entry = COMMANDS[verb];
  if (!entry) {
    io.err(`tsbpf: unknown command '${verb}'\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (!command.handlesHelp && (rest.includes("-h") || rest.includes("--help"))) {
    io.out(`usage: tsbpf ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tsbpf ${verb}: ${e.message}\nusage: tsbpf ${command.usage}`);
      return 2;
    }
    if (e instanceof TsbpfError) {
      io.err(`tsbpf ${verb}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
