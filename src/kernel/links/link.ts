import { NotSupportedError, TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import type { KernelProgram } from "../program.js";
import {
  LinkType,
  closeFd,
  getLinkInfo,
  linkDetach,
  linkGetFdById,
  linkGetNextId,
  linkTypeName,
  linkUpdate,
  objGet,
  objPin,
  type LinkInfo,
} from "../sys/index.js";

/** BPF_F_REPLACE of BPF_LINK_UPDATE: replace only if the link still runs old_prog_fd. */
const BPF_F_REPLACE = 1 << 2;

/**
 * An attachment of a program to a hook. Closing it detaches the program (unless it is pinned);
 * close() is idempotent and `using link = attachXxx(...)` closes it at the end of the scope.
 */
export interface Link extends Disposable {
  /** What the program is attached to: "tracepoint", "xdp", "tcx", "kprobe"… */
  readonly kind: string;
  readonly closed: boolean;
  /** Detaches and releases everything the attachment holds. Idempotent. */
  close(): void;
  /** Pins the link at `path` in bpffs so it outlives this process (BPF links only). */
  pin(path: string): void;
  /** Replaces the attached program atomically (links whose kind supports it). */
  update(prog: KernelProgram | number): void;
  /** What the kernel says about the link (BPF links only). */
  info(): LinkInfo;
}

const progFd = (prog: KernelProgram | number): number => (typeof prog === "number" ? prog : prog.fd);

/** Common behaviour: dispose = close, and a clear error for what a kind cannot do. */
export abstract class BaseLink implements Link {
  abstract readonly kind: string;
  abstract readonly closed: boolean;
  abstract close(): void;

  /** Why pin/update/info are not available (the attachment is not a BPF link). */
  protected unsupported(op: string, why = "this attachment is not a BPF link"): never {
    throw new NotSupportedError(`${op} of a ${this.kind} attachment`, why);
  }
  pin(_path: string): void {
    this.unsupported("pinning");
  }
  update(_prog: KernelProgram | number): void {
    this.unsupported("updating the program");
  }
  info(): LinkInfo {
    return this.unsupported("link info");
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A BPF link: an fd the kernel keeps the attachment alive by (BPF_LINK_CREATE and friends). */
export class RawLink extends BaseLink {
  #fd: number;
  readonly kind: string;

  /** Takes ownership of a BPF link fd; `kind` defaults to the kernel's link type name. */
  constructor(fd: number, kind?: string) {
    super();
    this.#fd = fd;
    this.kind = kind ?? linkTypeName(getLinkInfo(fd).type);
  }

  /** Opens the link with this id (BPF_LINK_GET_FD_BY_ID). */
  static fromId(id: number): RawLink {
    return adopt(linkGetFdById(id));
  }

  /** Ids of every BPF link in the kernel, in increasing order. */
  static *ids(): Generator<number> {
    for (let id = linkGetNextId(0); id !== undefined; id = linkGetNextId(id)) yield id;
  }

  get fd(): number {
    if (this.#fd < 0) throw new TsbpfError(`${this.kind} link is closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** The kernel's id of the link. */
  get id(): number {
    return this.info().id;
  }

  override info(): LinkInfo {
    return getLinkInfo(this.fd);
  }

  override pin(path: string): void {
    wrap(`pin ${this.kind} link at ${path}`, () => objPin(this.fd, path));
  }

  /**
   * Replaces the program (BPF_LINK_UPDATE). With `expected`, only when the link still runs
   * that program (BPF_F_REPLACE). Supported by xdp, tcx, netkit, cgroup, iter-less tracing…
   * links, per kernel (EOPNOTSUPP otherwise).
   */
  override update(prog: KernelProgram | number, expected?: KernelProgram | number): void {
    wrap(`update ${this.kind} link`, () =>
      linkUpdate({
        link_fd: this.fd,
        new_prog_fd: progFd(prog),
        ...(expected !== undefined ? { flags: BPF_F_REPLACE, old_prog_fd: progFd(expected) } : {}),
      }),
    );
  }

  /** Detaches the program while keeping the fd (and pins) valid (BPF_LINK_DETACH, 5.9). */
  detach(): void {
    wrap(`detach ${this.kind} link`, () => linkDetach(this.fd));
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
}

/** Wraps a RawLink around an fd, closing the fd when it is not a link. */
function adopt(fd: number, kind?: string): RawLink {
  try {
    return new RawLink(fd, kind);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

/** Opens the BPF link pinned at `path` (BPF_OBJ_GET). */
export function openPinnedLink(path: string): RawLink {
  const fd = objGet(path);
  const link = adopt(fd);
  if (getLinkInfo(fd).type === LinkType.UNSPEC) {
    link.close();
    throw new TsbpfError(`${path} is not a BPF link`);
  }
  return link;
}

/** Runs `fn`, re-throwing a SyscallError with `context` prepended. */
export function wrap<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SyscallError) {
      throw new SyscallError(e.call, e.errno, { context, hint: e.hint, cause: e });
    }
    throw e;
  }
}

/** An attachment released by a callback (socket filters, PROG_ATTACH, netlink filters…). */
export class DetachLink extends BaseLink {
  #detach: (() => void) | undefined;

  constructor(
    readonly kind: string,
    detach: () => void,
  ) {
    super();
    this.#detach = detach;
  }

  get closed(): boolean {
    return this.#detach === undefined;
  }

  close(): void {
    const detach = this.#detach;
    this.#detach = undefined;
    detach?.();
  }
}

/** Several links made by one attach call (perf_event on every CPU, …), closed together. */
export class MultiLink extends BaseLink {
  #closed = false;

  constructor(
    readonly kind: string,
    readonly links: readonly Link[],
  ) {
    super();
  }

  get closed(): boolean {
    return this.#closed;
  }

  override update(prog: KernelProgram | number): void {
    for (const link of this.links) link.update(prog);
  }

  override info(): LinkInfo {
    return this.unsupported("link info", `it holds ${this.links.length} links: ask each of .links`);
  }

  /** Closes every link, even when some fail; the first failure is thrown at the end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeAll(this.links);
  }
}

/** Closes each of `links` (or runs each cleanup), then throws the first failure. */
export function closeAll(items: readonly ({ close(): void } | (() => void))[]): void {
  let first: unknown;
  for (const item of items) {
    try {
      if (typeof item === "function") item();
      else item.close();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
