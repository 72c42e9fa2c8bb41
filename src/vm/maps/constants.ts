/**
 * The kernel's numbers that map semantics are made of: Linux errno values (programs compare
 * helper results with `-ENOENT` from the Linux headers, so these are Linux's on every host),
 * update flags and map_flags of include/uapi/linux/bpf.h.
 */

/** Linux errno values returned (negated) by map operations. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EOPNOTSUPP: 95,
  /** The kernel-internal ENOTSUPP (not EOPNOTSUPP) that map ops return for unsupported operations. */
  ENOTSUPP: 524,
} as const;
export type ErrnoName = keyof typeof Errno;

const ERRNO_NAMES = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** "ENOENT" for 2 or -2; "errno N" when unknown. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

// Update and map_flags bits: the object model's enums, one definition for both backends.
export { MapFlags, UpdateFlags } from "../../object/types.js";

/** Flags of bpf_ringbuf_output / submit / discard. */
export const RingbufFlag = {
  NO_WAKEUP: 1,
  FORCE_WAKEUP: 2,
} as const;

/** `flags` of bpf_ringbuf_query. */
export const RingbufQuery = {
  AVAIL_DATA: 0,
  RING_SIZE: 1,
  CONS_POS: 2,
  PROD_POS: 3,
} as const;

/** bpf_perf_event_output flags: the low 32 bits select the CPU/index; this value means "the current CPU". */
export const BPF_F_INDEX_MASK = 0xffffffffn;
export const BPF_F_CURRENT_CPU = 0xffffffffn;
/** bpf_perf_event_output for skb/xdp: bits 32-51 = bytes of the packet to append to the sample. */
export const BPF_F_CTXLEN_MASK = 0xfffffn << 32n;

/** Largest key the kernel accepts (MAX_BPF_STACK: keys live on the program's stack). */
export const MAX_KEY_SIZE = 512;
/** The kernel's KMALLOC_MAX_SIZE-style cap on one value; we use 1 MiB * 32 like the kernel's hash map check. */
export const MAX_VALUE_SIZE = 1 << 25;
/** Page size of ring buffers (x86-64, arm64 with 4K pages). */
export const PAGE_SIZE = 4096;

/** round_up(n, 8): the stride of array values and per-CPU value slots. */
export const roundUp8 = (n: number): number => (n + 7) & ~7;
