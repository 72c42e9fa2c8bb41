/** What every `tsbpf` verb module exports. */
export interface Command {
  /** One-line usage, e.g. "asm FILE [-o OUT] [--syntax conformance|llvm]". */
  readonly usage: string;
  /** Runs the verb; returns the process exit code (0 ok, 1 runtime fault, 2 usage/input error). */
  run(args: string[], io: CommandIO): Promise<number>;
  /** The verb prints its own help for -h anywhere in its arguments (e.g. `tool NAME -h`). */
  readonly handlesHelp?: boolean;
}

export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** Standard input, read whole (for --plugin modes). */
  readStdin(): Promise<string>;
}

/** Bad command-line usage: exit code 2, message printed without a stack. */
export class UsageError extends Error {
  override name = "UsageError";
}
