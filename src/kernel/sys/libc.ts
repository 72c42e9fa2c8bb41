import { createRequire } from "node:module";
import { NotSupportedError } from "../../errors.js";
import type { SyscallInterface } from "./syscalls.js";

/** Syscall numbers of the calls glibc has no wrapper for, per Node's process.arch. */
const SYSCALL_NUMBERS: Readonly<Record<string, { bpf: number; perfEventOpen: number }>> = {
  x64: { bpf: 321, perfEventOpen: 298 },
  arm64: { bpf: 280, perfEventOpen: 241 },
  riscv64: { bpf: 280, perfEventOpen: 241 },
  loong64: { bpf: 280, perfEventOpen: 241 },
  ppc64: { bpf: 361, perfEventOpen: 319 },
  s390x: { bpf: 351, perfEventOpen: 331 },
};

/** The koffi module surface this file uses (koffi ships loose typings with `any`). */
interface Koffi {
  load(path: string): { func(definition: string): KoffiFn };
  address(value: Uint8Array): bigint;
  view(address: bigint, length: number): ArrayBuffer;
  errno(): number;
}
type KoffiFn = ((...args: unknown[]) => unknown) & {
  async(...args: unknown[]): void;
};

/**
 * The real syscall layer: glibc through koffi. koffi is loaded on first use so that importing
 * the kernel backend costs nothing on machines that never call it.
 */
export function libcSyscalls(): SyscallInterface {
  if (process.platform !== "linux")
    throw new NotSupportedError("the Linux kernel backend", `running on ${process.platform}`);
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (!numbers)
    throw new NotSupportedError("the Linux kernel backend", `no syscall table for ${process.arch}`);
  const koffi = createRequire(import.meta.url)("koffi") as Koffi;
  const libc = koffi.load("libc.so.6");
  const fn = {
    syscall: libc.func("long syscall(long number, ...)"),
    close: libc.func("int close(int fd)"),
    ioctl: libc.func("int ioctl(int fd, unsigned long request, ...)"),
    read: libc.func("long read(int fd, void *buf, size_t count)"),
    mmap: libc.func("void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)"),
    munmap: libc.func("int munmap(void *addr, size_t length)"),
    epollCreate1: libc.func("int epoll_create1(int flags)"),
    epollCtl: libc.func("int epoll_ctl(int epfd, int op, int fd, void *event)"),
    epollWait: libc.func("int epoll_wait(int epfd, void *events, int maxevents, int timeout)"),
    mount: libc.func(
      "int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)",
    ),
    statfs: libc.func("int statfs(const char *path, void *buf)"),
  };
  // errno is read immediately after the call, before any other JS can run a libc call.
  const check = (ret: unknown): number => {
    const n = Number(ret);
    return n < 0 ? -koffi.errno() : n;
  };
  const epollEventSize = process.arch === "x64" ? 12 : 16;
  const epollDataOffset = process.arch === "x64" ? 4 : 8;
  const MAP_FAILED = 0xffffffffffffffffn;

  return {
    bpf: (cmd, attr) => check(fn.syscall(numbers.bpf, "int", cmd, "void *", attr, "uint", attr.byteLength)),
    addressOf: (buffer) => koffi.address(buffer),
    close: (fd) => check(fn.close(fd)),
    ioctl: (fd, request, arg) =>
      check(fn.ioctl(fd, request, arg instanceof Uint8Array ? "void *" : "uint64_t", arg)),
    read: (fd, buffer) => check(fn.read(fd, buffer, buffer.byteLength)),
    mmap: (length, prot, flags, fd, offset) => {
      const address = fn.mmap(null, length, prot, flags, fd, offset) as bigint | null;
      if (address === null || BigInt(address) === MAP_FAILED) return -BigInt(koffi.errno());
      return BigInt(address);
    },
    munmap: (address, length) => check(fn.munmap(address, length)),
    view: (address, length) => koffi.view(address, length),
    perfEventOpen: (attr, pid, cpu, groupFd, flags) =>
      check(
        fn.syscall(
          numbers.perfEventOpen,
          "void *",
          attr,
          "int",
          pid,
          "int",
          cpu,
          "int",
          groupFd,
          "unsigned long",
          flags,
        ),
      ),
    epollCreate1: (flags) => check(fn.epollCreate1(flags)),
    epollCtl: (epfd, op, fd, events, data) => {
      const event = new Uint8Array(epollEventSize);
      const view = new DataView(event.buffer);
      view.setUint32(0, events, true);
      view.setBigUint64(epollDataOffset, data, true);
      return check(fn.epollCtl(epfd, op, fd, event));
    },
    epollWait: (epfd, out, maxEvents, timeoutMs) => check(fn.epollWait(epfd, out, maxEvents, timeoutMs)),
    epollWaitAsync: (epfd, out, maxEvents, timeoutMs) =>
      new Promise((resolve, reject) => {
        // errno of an async call lives on the worker thread: a failure is reported as -EINTR,
        // the only error epoll_wait returns on a valid descriptor.
        fn.epollWait.async(epfd, out, maxEvents, timeoutMs, (err: unknown, ret: unknown) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve(Number(ret) < 0 ? -4 : Number(ret));
        });
      }),
    mount: (source, target, fsType, flags, data) => check(fn.mount(source, target, fsType, flags, data)),
    statfs: (path, out) => check(fn.statfs(path, out)),
  };
}
