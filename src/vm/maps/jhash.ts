/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h): jhash over bytes and
 * jhash2 over u32 words, both reading words in little-endian order (the kernel reads them in CPU
 * order on the little-endian hosts BPF runs on). Used by the bloom filter so its bits, and hence
 * its false positives, are the kernel's for the same seed.
 */

const JHASH_INITVAL = 0xdeadbeef;
const rol32 = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** State a, b, c of a hash in progress (module-level: the functions are not reentrant-sensitive). */
let a = 0;
let b = 0;
let c = 0;

function mix(): void {
  a = (a - c) | 0;
  a ^= rol32(c, 4);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 6);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 8);
  b = (b + a) | 0;
  a = (a - c) | 0;
  a ^= rol32(c, 16);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 19);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 4);
  b = (b + a) | 0;
}

function final(): void {
  c ^= b;
  c = (c - rol32(b, 14)) | 0;
  a ^= c;
  a = (a - rol32(c, 11)) | 0;
  b ^= a;
  b = (b - rol32(a, 25)) | 0;
  c ^= b;
  c = (c - rol32(b, 16)) | 0;
  a ^= c;
  a = (a - rol32(c, 4)) | 0;
  b ^= a;
  b = (b - rol32(a, 14)) | 0;
  c ^= b;
  c = (c - rol32(b, 24)) | 0;
}

const word = (k: Uint8Array, i: number): number =>
  k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24);

/** jhash(key, length, initval): the hash of `key` as an unsigned 32-bit number. */
export function jhash(key: Uint8Array, initval: number): number {
  let length = key.length;
  a = b = c = (JHASH_INITVAL + length + initval) | 0;
  let i = 0;
  while (length > 12) {
    a = (a + word(key, i)) | 0;
    b = (b + word(key, i + 4)) | 0;
    c = (c + word(key, i + 8)) | 0;
    mix();
    length -= 12;
    i += 12;
  }
  if (length === 0) return c >>> 0;
  // The tail: bytes 8-11 into c, 4-7 into b, 0-3 into a (the kernel's switch fall-through).
  for (let j = length - 1; j >= 0; j--) {
    const v = key[i + j]! << ((j % 4) * 8);
    if (j >= 8) c = (c + v) | 0;
    else if (j >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  final();
  return c >>> 0;
}

/** jhash2(k, length, initval) over the little-endian u32 words of `key` (its length a multiple of 4). */
export function jhash2(key: Uint8Array, initval: number): number {
  let length = key.length >>> 2;
  a = b = c = (JHASH_INITVAL + (length << 2) + initval) | 0;
  let i = 0;
  while (length > 3) {
    a = (a + word(key, i)) | 0;
    b = (b + word(key, i + 4)) | 0;
    c = (c + word(key, i + 8)) | 0;
    mix();
    length -= 3;
    i += 12;
  }
  if (length === 0) return c >>> 0;
  if (length === 3) c = (c + word(key, i + 8)) | 0;
  if (length >= 2) b = (b + word(key, i + 4)) | 0;
  a = (a + word(key, i)) | 0;
  final();
  return c >>> 0;
}
