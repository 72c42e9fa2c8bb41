import { NotSupportedError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import { perfIoctl } from "../perf/event.js";
import type { KernelProgram } from "../program.js";
import { AttachType, closeFd, linkCreate, type LinkInfo } from "../sys/index.js";
import { PerfIoctl } from "../sys/perf-event-attr.js";
import { BaseLink, RawLink, closeAll } from "./link.js";

const EINVAL = 22;

/** How a program is tied to a perf event. */
export type PerfAttachMode =
  /** BPF_LINK_CREATE (BPF_PERF_EVENT, 5.15), falling back to PERF_EVENT_IOC_SET_BPF. */
  | "auto"
  /** PERF_EVENT_IOC_ENABLE then PERF_EVENT_IOC_SET_BPF, the order of the kprobe_events guide. */
  | "ioctl";

/**
 * A program attached to a perf event (tracepoint, kprobe, uprobe, sampling event). Holds the
 * perf event fd, the BPF link when there is one, and a cleanup (e.g. removing a kprobe_events
 * entry) run after both are closed.
 */
export class PerfEventLink extends BaseLink {
  #perfFd: number;
  #cleanup: (() => void) | undefined;

  constructor(
    readonly kind: string,
    perfFd: number,
    /** The BPF link (BPF_PERF_EVENT), absent on the ioctl path. */
    readonly bpfLink: RawLink | undefined,
    cleanup?: () => void,
  ) {
    super();
    this.#perfFd = perfFd;
    this.#cleanup = cleanup;
  }

  /** The perf event's fd (-1 once closed). */
  get perfFd(): number {
    return this.#perfFd;
  }

  get closed(): boolean {
    return this.#perfFd < 0;
  }

  override pin(path: string): void {
    if (!this.bpfLink) this.unsupported("pinning", "attached with PERF_EVENT_IOC_SET_BPF, not a BPF link");
    this.bpfLink.pin(path);
  }

  override info(): LinkInfo {
    if (!this.bpfLink) this.unsupported("link info", "attached with PERF_EVENT_IOC_SET_BPF, not a BPF link");
    return this.bpfLink.info();
  }

  override update(): void {
    this.unsupported("updating the program", "the kernel cannot replace the program of a perf event");
  }

  close(): void {
    if (this.#perfFd < 0) return;
    const fd = this.#perfFd;
    const cleanup = this.#cleanup;
    this.#perfFd = -1;
    this.#cleanup = undefined;
    closeAll([...(this.bpfLink ? [this.bpfLink] : []), () => closeFd(fd), ...(cleanup ? [cleanup] : [])]);
  }
}

/** Options of attachToPerfEvent. */
export interface PerfAttachOptions {
  kind: string;
  /** bpf_get_attach_cookie() value (needs the BPF link path, 5.15). */
  cookie?: bigint | number;
  mode?: PerfAttachMode;
  /** Run when the link is closed, or when attaching fails (after the perf fd is closed). */
  cleanup?: () => void;
  /** Names the target in errors ("tracepoint syscalls/sys_enter_getpid"). */
  context: string;
}

/**
 * Ties `prog` to the perf event `perfFd`, taking ownership of the fd: on failure the fd is
 * closed and the cleanup run before the error is thrown.
 */
export function attachToPerfEvent(
  prog: KernelProgram | number,
  perfFd: number,
  options: PerfAttachOptions,
): PerfEventLink {
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const context = `attach ${options.context}`;
  try {
    if (options.mode === "ioctl") {
      if (options.cookie)
        throw new NotSupportedError(
          "attach cookies on the ioctl path",
          "they need a BPF perf_event link (5.15)",
        );
      perfIoctl(perfFd, PerfIoctl.ENABLE, 0, context);
      perfIoctl(perfFd, PerfIoctl.SET_BPF, progFd, context);
      return new PerfEventLink(options.kind, perfFd, undefined, options.cleanup);
    }
    let bpfLink: RawLink | undefined;
    try {
      const fd = linkCreate(
        {
          prog_fd: progFd,
          target_fd: perfFd,
          attach_type: AttachType.PERF_EVENT,
          "perf_event.bpf_cookie": options.cookie ?? 0,
        },
        context,
      );
      bpfLink = new RawLink(fd, options.kind);
    } catch (e) {
      // Kernels before 5.15 have no perf_event links: attach with the ioctl instead.
      if (!(e instanceof SyscallError) || e.errno !== EINVAL || options.cookie) throw e;
      try {
        perfIoctl(perfFd, PerfIoctl.SET_BPF, progFd, context);
      } catch {
        throw e;
      }
    }
    try {
      perfIoctl(perfFd, PerfIoctl.ENABLE, 0, context);
    } catch (e) {
      bpfLink?.close();
      throw e;
    }
    return new PerfEventLink(options.kind, perfFd, bpfLink, options.cleanup);
  } catch (e) {
    try {
      closeAll([() => closeFd(perfFd), ...(options.cleanup ? [options.cleanup] : [])]);
    } catch {
      // the attach error is the one worth reporting
    }
    throw e;
  }
}
