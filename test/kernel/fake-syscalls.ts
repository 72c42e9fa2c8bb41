import type { SyscallInterface } from "../../src/kernel/sys/index.js";

/**
 * A fake kernel for unit tests: bpf(2) is answered by `bpf`, buffers get fake addresses that
 * `memory` resolves, and every other call fails with ENOSYS.
 */
export function fakeSyscalls(
  bpf: (cmd: number, attr: DataView, memory: FakeMemory) => number,
): SyscallInterface {
  const memory = new FakeMemory();
  const enosys = (): never => {
    throw new Error("fake syscall layer: not implemented");
  };
  return {
    bpf: (cmd, attr) => bpf(cmd, new DataView(attr.buffer, attr.byteOffset, attr.byteLength), memory),
    addressOf: (buffer) => memory.register(buffer),
    close: () => 0,
    ioctl: enosys,
    read: enosys,
    mmap: enosys,
    munmap: enosys,
    view: enosys,
    perfEventOpen: enosys,
    epollCreate1: enosys,
    epollCtl: enosys,
    epollWait: enosys,
    epollWaitAsync: enosys,
    mount: enosys,
    statfs: enosys,
  };
}

/** Fake addresses for buffers: each buffer gets its own 1 MiB-aligned address. */
export class FakeMemory {
  #buffers = new Map<bigint, Uint8Array>();
  #next = 0x100000n;

  register(buffer: Uint8Array): bigint {
    const address = this.#next;
    this.#next += 0x100000n;
    this.#buffers.set(address, buffer);
    return address;
  }

  /** The buffer behind a pointer field (undefined for NULL). */
  at(address: bigint): Uint8Array | undefined {
    if (address === 0n) return undefined;
    const buffer = this.#buffers.get(address);
    if (!buffer) throw new Error(`fake kernel: bad address 0x${address.toString(16)}`);
    return buffer;
  }
}
