/** Decoding and formatting helpers shared by the tools' event printers. */

const decoder = new TextDecoder("utf-8", { fatal: false });

/** The NUL-terminated string in `bytes[offset, offset + length)`. */
export function cString(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  const end = Math.min(bytes.length, offset + length);
  let nul = offset;
  while (nul < end && bytes[nul] !== 0) nul++;
  return decoder.decode(bytes.subarray(offset, nul));
}

/** AF_INET and AF_INET6. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** Text form of an IPv4 (4 bytes) or IPv6 (16 bytes) address, IPv6 compressed as inet_ntop does. */
export function ipAddress(
  bytes: Uint8Array,
  family: number = bytes.length === 4 ? AF_INET : AF_INET6,
): string {
  if (family === AF_INET) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // IPv4-mapped ::ffff:a.b.c.d
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff)
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

const two = (n: number): string => String(n).padStart(2, "0");

/** Local wall-clock time as HH:MM:SS (BCC's -T / TIME column). */
export function clockTime(date = new Date()): string {
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** CLOCK_MONOTONIC in nanoseconds (bpf_ktime_get_ns()'s clock). */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** Linux errno names for the ERR columns' JSON (numbers stay numbers in text, as BCC prints them). */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  40: "ELOOP",
  95: "EOPNOTSUPP",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  115: "EINPROGRESS",
};
