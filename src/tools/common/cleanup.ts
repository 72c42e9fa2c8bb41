/**
 * Signal and cleanup handling: a tool registers what it loads and attaches in a Cleanup (closed
 * in reverse order, even after a failure), waits with abortable sleeps, and the CLI turns
 * SIGINT/SIGTERM into an AbortSignal so the tool can print its summary and leave nothing loaded.
 */

/** Closes what a tool holds, last registered first; the first failure is thrown at the end. */
export class Cleanup implements Disposable {
  readonly #steps: (() => void)[] = [];
  #closed = false;

  /** Runs `fn` at close(). */
  defer(fn: () => void): void {
    if (this.#closed) throw new Error("cleanup already ran");
    this.#steps.push(fn);
  }

  /** Closes `resource` at close(); returns it. */
  use<T extends { close(): void }>(resource: T): T {
    this.defer(() => resource.close());
    return resource;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let first: unknown;
    for (const step of this.#steps.reverse()) {
      try {
        step();
      } catch (e) {
        first ??= e;
      }
    }
    this.#steps.length = 0;
    if (first !== undefined) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Sleeps `ms` milliseconds; resolves early (false) when `signal` aborts, true otherwise. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves when `signal` aborts, keeping the process alive meanwhile (signal handlers do not). */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal.addEventListener(
      "abort",
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * A signal that aborts when `parent` aborts or after `durationMs` (when given): the stop
 * condition of a tool run with a duration argument.
 */
export function untilSignal(
  parent: AbortSignal,
  durationMs?: number,
): { signal: AbortSignal; close(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (parent.aborted) controller.abort();
  else parent.addEventListener("abort", abort, { once: true });
  const timer = durationMs !== undefined ? setTimeout(abort, durationMs) : undefined;
  return {
    signal: controller.signal,
    close: () => {
      if (timer) clearTimeout(timer);
      parent.removeEventListener("abort", abort);
    },
  };
}

/**
 * Calls `tick(i)` every `intervalMs` (i from 1) until `count` ticks, or until `signal`
 * aborts; an interrupted interval still gets its final tick (the summary BCC prints on Ctrl-C)
 * when `finalTick` is true.
 */
export async function everyInterval(
  options: { intervalMs: number; count?: number; signal: AbortSignal; finalTick?: boolean },
  tick: (i: number, last: boolean) => void | Promise<void>,
): Promise<void> {
  for (let i = 1; ; i++) {
    const completed = await sleep(options.intervalMs, options.signal);
    const last = !completed || (options.count !== undefined && i >= options.count);
    if (completed || options.finalTick) await tick(i, last);
    if (last) return;
  }
}

/** Resolves when `signal` aborts or `durationMs` (when given) has passed: a tool's run until Ctrl-C or -d. */
export async function waitForEnd(signal: AbortSignal, durationMs?: number): Promise<void> {
  const stop = untilSignal(signal, durationMs);
  try {
    await waitForAbort(stop.signal);
  } finally {
    stop.close();
  }
}

/**
 * The summary loop of BCC's histogram and count tools: without an interval, one `print()` when
 * `signal` aborts (or after `durationMs`); with one, a print every interval, `count` times at
 * most, and a last one when interrupted.
 */
export async function printSummaries(
  options: { intervalSeconds?: number; count?: number; durationMs?: number; signal: AbortSignal },
  print: () => void,
): Promise<void> {
  if (options.intervalSeconds === undefined) {
    await waitForEnd(options.signal, options.durationMs);
    print();
    return;
  }
  await everyInterval(
    {
      intervalMs: options.intervalSeconds * 1000,
      ...(options.count !== undefined ? { count: options.count } : {}),
      signal: options.signal,
      finalTick: true,
    },
    () => print(),
  );
}

/** A source of records that can wait for more (ring buffer or perf buffer reader). */
export interface Pollable<T> {
  poll(timeoutMs: number, callback: (record: T) => void): Promise<number>;
}

/** Hands records to `onRecord` as they come until `signal` aborts; returns how many. */
export async function pollUntil<T>(
  source: Pollable<T>,
  signal: AbortSignal,
  onRecord: (record: T) => void,
  timeoutMs = 100,
): Promise<number> {
  let n = 0;
  while (!signal.aborted) n += await source.poll(timeoutMs, onRecord);
  return n;
}

/**
 * An AbortSignal for SIGINT and SIGTERM (and SIGHUP): the first one aborts so the tool can
 * print its summary and clean up; a second one exits at once (code 130). dispose() removes
 * the handlers.
 */
export function terminationSignal(signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"]): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}
