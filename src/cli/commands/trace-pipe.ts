import { closeSync, constants, openSync, readSync } from "node:fs";
import { systemTracefs } from "../../kernel/tracefs.js";
import { UsageError, type Command, type CommandIO } from "../command.js";

/**
 * `tsbpf trace-pipe [--timeout SECONDS]`: prints the kernel's trace_pipe (bpf_trace_printk
 * output) until interrupted, mounting tracefs when needed. The pipe is read without blocking so
 * that Ctrl-C ends it at once.
 */

const POLL_MS = 50;

async function run(args: string[], io: CommandIO): Promise<number> {
  let timeoutMs = Infinity;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--timeout") {
      const v = args[++i];
      if (v === undefined || !/^\d+(\.\d+)?$/.test(v))
        throw new UsageError("--timeout needs a number of seconds");
      timeoutMs = Number(v) * 1000;
    } else throw new UsageError(`unexpected argument '${a}'`);
  }
  const path = systemTracefs().path("trace_pipe");
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const end = Date.now() + timeoutMs;
  const buf = Buffer.alloc(64 * 1024);
  let partial = "";
  try {
    while (!stop && Date.now() < end) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      }
      if (n > 0) {
        const lines = (partial + buf.toString("utf8", 0, n)).split("\n");
        partial = lines.pop() ?? "";
        if (lines.length) io.out(lines.join("\n"));
        continue;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (partial) io.out(partial);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    closeSync(fd);
  }
  return 0;
}

const command: Command = { usage: "trace-pipe [--timeout SECONDS]", run };
export default command;
