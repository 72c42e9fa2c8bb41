import { TsbpfError } from "../../errors.js";
import { terminationSignal } from "../../tools/common/cleanup.js";
import { ToolUsageError, type Tool } from "../../tools/common/tool.js";
import { TOOLS, loadTool } from "../../tools/index.js";
import type { Command, CommandIO } from "../command.js";

function toolList(): string {
  const width = Math.max(...Object.keys(TOOLS).map((k) => k.length));
  return Object.entries(TOOLS)
    .map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`)
    .join("\n");
}

/** Runs a tool with SIGINT/SIGTERM turned into its abort signal; usage errors exit 2. */
export async function runTool(tool: Tool, args: string[], io: CommandIO): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.out(`usage: tsbpf ${tool.usage}`);
    return 0;
  }
  const termination = terminationSignal();
  try {
    return await tool.run(args, io, termination.signal);
  } catch (e) {
    if (e instanceof ToolUsageError) {
      io.err(`tsbpf ${tool.name}: ${e.message}\nusage: tsbpf ${tool.usage.split("\n")[0]!}`);
      return 2;
    }
    if (e instanceof TsbpfError) {
      io.err(`tsbpf ${tool.name}: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    termination.dispose();
  }
}

/** The Command of one tool, for the `tsbpf NAME` aliases of commands.ts. */
export async function toolCommand(name: string): Promise<Command> {
  const tool = await loadTool(name);
  if (!tool) throw new TsbpfError(`no tool '${name}'`);
  return { usage: tool.usage, run: (args, io) => runTool(tool, args, io) };
}

const command: Command = {
  handlesHelp: true,
  usage: `tool NAME [options]   (tsbpf tool NAME -h for a tool's options)\n\ntools:\n${toolList()}`,
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === "-h" || name === "--help") {
      io.out(`usage: tsbpf ${command.usage}`);
      return 0;
    }
    if (name === undefined || name === "list") {
      io.out(toolList());
      return name === undefined ? 2 : 0;
    }
    const tool = await loadTool(name);
    if (!tool) {
      io.err(`tsbpf tool: unknown tool '${name}'\ntools:\n${toolList()}`);
      return 2;
    }
    return runTool(tool, rest, io);
  },
};
export default command;
