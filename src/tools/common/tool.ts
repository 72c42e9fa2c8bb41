/** What every tool module exports, and the errors tools throw. */

/** Where a tool writes: one call per line (a trailing newline is added when missing). */
export interface ToolIO {
  out(text: string): void;
  err(text: string): void;
}

/** A ready-to-run tool (`tsbpf tool NAME ...`). */
export interface Tool {
  readonly name: string;
  /** One line for the tool table. */
  readonly summary: string;
  /** Full help: the synopsis line first (without "tsbpf "), then options and examples. */
  readonly usage: string;
  /**
   * Runs until done, until `signal` aborts (Ctrl-C / SIGTERM), or until its duration ends;
   * prints the final summary and releases everything it loaded. Returns the exit code
   * (0 ok, 1 runtime fault, 2 usage error or missing kernel feature).
   */
  run(args: string[], io: ToolIO, signal: AbortSignal): Promise<number>;
}

/** Bad command-line usage of a tool: exit code 2 and the usage line. */
export class ToolUsageError extends Error {
  override name = "ToolUsageError";
}
