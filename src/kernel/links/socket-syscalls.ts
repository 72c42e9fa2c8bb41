import { createRequire } from "node:module";
import { NotSupportedError } from "../../errors.js";

/**
 * The socket calls attachments need (socket filters, rtnetlink, interface names), behind an
 * interface a unit test can replace. Like SyscallInterface, failures return -errno.
 */
export interface SocketInterface {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  bind(fd: number, address: Uint8Array): number;
  sendto(fd: number, data: Uint8Array, flags: number, address: Uint8Array | null): number;
  recv(fd: number, buffer: Uint8Array, flags: number): number;
  close(fd: number): number;
  /** if_nametoindex(3): 0 when there is no such interface. */
  ifNameToIndex(name: string): number;
}

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
  errno(): number;
}

function libcSockets(): SocketInterface {
  if (process.platform !== "linux")
    throw new NotSupportedError("Linux sockets", `running on ${process.platform}`);
  const koffi = createRequire(import.meta.url)("koffi") as Koffi;
  const libc = koffi.load("libc.so.6");
  const fn = {
    socket: libc.func("int socket(int domain, int type, int protocol)"),
    setsockopt: libc.func("int setsockopt(int fd, int level, int name, const void *value, uint32_t len)"),
    bind: libc.func("int bind(int fd, const void *addr, uint32_t len)"),
    sendto: libc.func(
      "long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)",
    ),
    recv: libc.func("long recv(int fd, void *buf, size_t len, int flags)"),
    close: libc.func("int close(int fd)"),
    ifNameToIndex: libc.func("unsigned int if_nametoindex(const char *name)"),
  };
  const check = (ret: unknown): number => {
    const n = Number(ret);
    return n < 0 ? -koffi.errno() : n;
  };
  return {
    socket: (d, t, p) => check(fn.socket(d, t, p)),
    setsockopt: (fd, level, name, value) => check(fn.setsockopt(fd, level, name, value, value.byteLength)),
    bind: (fd, address) => check(fn.bind(fd, address, address.byteLength)),
    sendto: (fd, data, flags, address) =>
      check(fn.sendto(fd, data, data.byteLength, flags, address, address?.byteLength ?? 0)),
    recv: (fd, buffer, flags) => check(fn.recv(fd, buffer, buffer.byteLength, flags)),
    close: (fd) => check(fn.close(fd)),
    ifNameToIndex: (name) => Number(fn.ifNameToIndex(name)),
  };
}

let current: SocketInterface | undefined;

/** The socket layer in use (libc through koffi unless a test installed another). */
export function socketSyscalls(): SocketInterface {
  return (current ??= libcSockets());
}

/** Installs a socket layer (a fake in tests); returns a function restoring the previous one. */
export function useSocketSyscalls(layer: SocketInterface): () => void {
  const previous = current;
  current = layer;
  return () => {
    current = previous;
  };
}
