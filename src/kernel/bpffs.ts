import { mkdirSync, rmSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { SyscallError } from "./errors.js";
import { syscalls } from "./sys/index.js";

/** statfs f_type of a bpffs mount. */
export const BPFFS_MAGIC = 0xcafe4a11;
/** statfs f_type of tracefs. */
export const TRACEFS_MAGIC = 0x74726163;
/** statfs f_type of debugfs (which holds tracefs under tracing/ on older systems). */
export const DEBUGFS_MAGIC = 0x64626720;

export const DEFAULT_BPFFS = "/sys/fs/bpf";
export const DEFAULT_TRACEFS = "/sys/kernel/tracing";

/** The filesystem magic of `path` (statfs f_type), undefined when it does not exist. */
export function fsMagic(path: string): number | undefined {
  const buf = new Uint8Array(256); // struct statfs is 120 bytes on 64-bit targets
  const ret = syscalls().statfs(path, buf);
  if (ret === -2 /* ENOENT */) return undefined;
  if (ret < 0) throw new SyscallError("statfs", -ret, { context: path });
  // f_type is a long: the low 32 bits hold the magic.
  return new DataView(buf.buffer).getUint32(0, true);
}

/** Whether `path` is (in) a bpffs mount. */
export const isBpffs = (path: string): boolean => fsMagic(path) === BPFFS_MAGIC;

function ensureMount(path: string, magic: number, fsType: string, data: string | null): string {
  const found = fsMagic(path);
  if (found === magic) return path;
  mkdirSync(path, { recursive: true });
  const ret = syscalls().mount(fsType, path, fsType, 0, data);
  if (ret < 0) {
    throw new SyscallError("mount", -ret, {
      context: `mount ${fsType} at ${path}`,
      hint: -ret === 1 ? "mounting needs root (CAP_SYS_ADMIN)" : undefined,
    });
  }
  if (fsMagic(path) !== magic)
    throw new TsbpfError(`mounted ${fsType} at ${path} but statfs does not see it`);
  return path;
}

/** Makes sure `path` (default /sys/fs/bpf) is a bpffs mount, mounting one when missing; returns it. */
export function ensureBpffs(path = DEFAULT_BPFFS): string {
  return ensureMount(path, BPFFS_MAGIC, "bpf", "mode=0700");
}

/** Makes sure tracefs is mounted at `path` (default /sys/kernel/tracing), mounting it when missing. */
export function ensureTracefs(path = DEFAULT_TRACEFS): string {
  return ensureMount(path, TRACEFS_MAGIC, "tracefs", null);
}

/** Removes a pin (the object lives on while other references hold it). Missing pins are ignored. */
export function unpin(path: string): void {
  rmSync(path, { force: true });
}
