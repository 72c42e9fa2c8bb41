import { libcSyscalls } from "./libc.js";

/**
 * The system calls the kernel backend uses, behind one interface so that unit tests can swap
 * in a fake kernel (aya style) and run without root. Every call returns what the C call
 * returns, except that a failure returns the negated errno instead of -1 (like the raw
 * syscall ABI), so callers never read a global errno.
 */
export interface SyscallInterface {
  /** bpf(2): `attr` is the command's union bpf_attr (its length is the attr size). */
  bpf(cmd: number, attr: Uint8Array): number;
  /** The address of a buffer, to store in a pointer field (valid while the buffer is alive). */
  addressOf(buffer: Uint8Array): bigint;
  close(fd: number): number;
  /** ioctl(2) with an integer or pointer argument. */
  ioctl(fd: number, request: number, arg: number | bigint | Uint8Array): number;
  /** read(2): bytes read, or -errno. */
  read(fd: number, buffer: Uint8Array): number;
  /** mmap(2) of `fd` (addr NULL): the address, or -errno as a negative bigint. */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  munmap(address: bigint, length: number): number;
  /** An ArrayBuffer over mapped memory (no copy). */
  view(address: bigint, length: number): ArrayBuffer;
  /** perf_event_open(2) with an encoded struct perf_event_attr. */
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  epollCreate1(flags: number): number;
  /** epoll_ctl(2): `events` mask and the 64-bit user data of struct epoll_event. */
  epollCtl(epfd: number, op: number, fd: number, events: number, data: bigint): number;
  /** epoll_wait(2), blocking the thread: fills `out` (see EPOLL_EVENT_SIZE) and returns the count. */
  epollWait(epfd: number, out: Uint8Array, maxEvents: number, timeoutMs: number): number;
  /** epoll_wait(2) on a worker thread, so the event loop keeps running. */
  epollWaitAsync(epfd: number, out: Uint8Array, maxEvents: number, timeoutMs: number): Promise<number>;
  mount(source: string, target: string, fsType: string, flags: number, data: string | null): number;
  /** statfs(2) into a struct statfs buffer (f_type is the first word). */
  statfs(path: string, out: Uint8Array): number;
}

/** Size of struct epoll_event: packed (12 bytes) on x86_64, 16 bytes elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
/** Offset of epoll_event.data. */
export const EPOLL_EVENT_DATA_OFFSET = process.arch === "x64" ? 4 : 8;

let current: SyscallInterface | undefined;

/** The syscall layer in use: the fake one installed by useSyscalls, else libc through koffi. */
export function syscalls(): SyscallInterface {
  return (current ??= libcSyscalls());
}

/**
 * Installs `layer` (e.g. a fake kernel in a unit test) and returns a function restoring the
 * previous one.
 */
export function useSyscalls(layer: SyscallInterface): () => void {
  const previous = current;
  current = layer;
  return () => {
    current = previous;
  };
}
