/**
 * The lifetime of a long-running verb (`load --attach`, `attach`, `kprobe`): what it loads and
 * attaches is registered in one Cleanup (src/tools/common/cleanup.ts, shared with the tools) and
 * released, last first, when the verb returns, on SIGINT/SIGTERM/SIGHUP (the first signal lets
 * the verb print its summary; a second one exits at once), and at process exit (process.exit,
 * an uncaught exception). File descriptors die with the process anyway; what would not is
 * state outside it: kprobe_events lines, temporary pins. Pinned maps are never removed here.
 */
import { Cleanup, terminationSignal, waitForAbort } from "../tools/common/cleanup.js";

/** A scope for a long-running verb: `using life = new Lifetime()`. */
export class Lifetime implements Disposable {
  readonly #cleanup = new Cleanup();
  readonly #termination = terminationSignal();
  readonly #onExit = (): void => {
    try {
      this.#cleanup.close();
    } catch {
      // the process is exiting: nothing left to report to
    }
  };
  #closed = false;

  constructor() {
    process.on("exit", this.#onExit);
  }

  /** Aborts on the first SIGINT, SIGTERM or SIGHUP. */
  get signal(): AbortSignal {
    return this.#termination.signal;
  }

  /** Whether a termination signal came. */
  get interrupted(): boolean {
    return this.#termination.signal.aborted;
  }

  /** Closes `resource` when the lifetime ends (last registered, first closed); returns it. */
  use<T extends { close(): void }>(resource: T): T {
    return this.#cleanup.use(resource);
  }

  /** Runs `fn` when the lifetime ends. */
  defer(fn: () => void): void {
    this.#cleanup.defer(fn);
  }

  /** Resolves at the first termination signal (keeping node running meanwhile). */
  untilInterrupted(): Promise<void> {
    return waitForAbort(this.signal);
  }

  /** Releases everything now (idempotent); the first release failure is thrown. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off("exit", this.#onExit);
    this.#termination.dispose();
    this.#cleanup.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
