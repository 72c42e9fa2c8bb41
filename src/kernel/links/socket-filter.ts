import { SyscallError } from "../errors.js";
import type { KernelProgram } from "../program.js";
import { DetachLink } from "./link.js";
import { socketSyscalls } from "./socket-syscalls.js";

const SOL_SOCKET = 1;
/** SO_ATTACH_BPF: attach an eBPF program (fd) to a socket (3.19). */
export const SO_ATTACH_BPF = 50;
/** SO_DETACH_BPF (= SO_DETACH_FILTER) */
export const SO_DETACH_BPF = 27;

/** Where to attach a socket filter (BPF_PROG_TYPE_SOCKET_FILTER). */
export interface SocketFilterOptions {
  /** The socket's file descriptor. */
  socket: number;
}

const int32 = (v: number): Uint8Array => new Uint8Array(Int32Array.of(v).buffer);

/**
 * Attaches a socket filter: setsockopt(SO_ATTACH_BPF). Closing the link detaches it
 * (SO_DETACH_BPF); closing the socket drops it too. Not a BPF link: no pin, no info.
 */
export function attachSocketFilter(prog: KernelProgram | number, options: SocketFilterOptions): DetachLink {
  const sockets = socketSyscalls();
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const ret = sockets.setsockopt(options.socket, SOL_SOCKET, SO_ATTACH_BPF, int32(progFd));
  if (ret < 0)
    throw new SyscallError("setsockopt(SO_ATTACH_BPF)", -ret, {
      context: `attach socket filter to fd ${options.socket}`,
    });
  return new DetachLink("socket_filter", () => {
    const r = sockets.setsockopt(options.socket, SOL_SOCKET, SO_DETACH_BPF, int32(0));
    // ENOENT: nothing attached any more; EBADF: the socket was closed, which detached it.
    if (r < 0 && r !== -2 && r !== -9)
      throw new SyscallError("setsockopt(SO_DETACH_BPF)", -r, {
        context: `detach socket filter from fd ${options.socket}`,
      });
  });
}
