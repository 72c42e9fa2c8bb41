import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NotSupportedError, TsbpfError } from "../errors.js";
import { DEFAULT_TRACEFS, TRACEFS_MAGIC, ensureTracefs, fsMagic } from "./bpffs.js";

/** Where debugfs keeps tracefs on older systems. */
export const DEBUGFS_TRACING = "/sys/kernel/debug/tracing";

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The tracing file system (tracefs): tracepoint ids, the kprobe/uprobe event files and
 * trace_pipe. The root is a directory, so tests can point it at a fake tree; writes go through
 * `append` (O_APPEND, like the shell's `>>`) so that a fake can play the kernel's part.
 */
export class Tracefs {
  constructor(readonly root: string) {}

  /** The absolute path of a file under the root. */
  path(relative: string): string {
    return join(this.root, relative);
  }

  exists(relative: string): boolean {
    return existsSync(this.path(relative));
  }

  read(relative: string): string {
    try {
      return readFileSync(this.path(relative), "utf8");
    } catch (e) {
      throw new TsbpfError(`tracefs: cannot read ${this.path(relative)} (${errCode(e)})`, { cause: e });
    }
  }

  /** Appends one line (O_APPEND, never truncating, as `echo LINE >> FILE`). */
  append(relative: string, line: string): void {
    try {
      appendFileSync(this.path(relative), `${line}\n`);
    } catch (e) {
      throw new TsbpfError(`tracefs: writing '${line}' to ${this.path(relative)} failed (${errCode(e)})`, {
        cause: e,
      });
    }
  }

  /** The id of the trace event events/GROUP/NAME (the perf_event_attr.config of a tracepoint). */
  eventId(group: string, name: string): number {
    checkEventName(group, "group");
    checkEventName(name, "name");
    const rel = `events/${group}/${name}/id`;
    if (!this.exists(rel)) {
      throw new TsbpfError(
        `tracepoint ${group}/${name} does not exist (no ${this.path(rel)}; see ${this.path("available_events")})`,
      );
    }
    const id = Number(this.read(rel).trim());
    if (!Number.isInteger(id) || id < 0) throw new TsbpfError(`${this.path(rel)}: not an event id`);
    return id;
  }
}

/** Checks a tracepoint group or event name (they become path components). */
export function checkEventName(name: string, what: string): void {
  if (!NAME.test(name)) throw new TsbpfError(`bad trace event ${what} '${name}' (expected [A-Za-z0-9_.-])`);
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

let mounted: Tracefs | undefined;

/**
 * The system's tracefs: /sys/kernel/tracing (mounted there when missing), else the copy under
 * debugfs. NotSupportedError when neither can be had.
 */
export function systemTracefs(): Tracefs {
  if (mounted) return mounted;
  try {
    return (mounted = new Tracefs(ensureTracefs(DEFAULT_TRACEFS)));
  } catch (e) {
    if (fsMagic(DEBUGFS_TRACING) === TRACEFS_MAGIC || existsSync(join(DEBUGFS_TRACING, "events")))
      return (mounted = new Tracefs(DEBUGFS_TRACING));
    throw new NotSupportedError("tracefs", `cannot mount it at ${DEFAULT_TRACEFS}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
