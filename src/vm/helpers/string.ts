/** bpf_strncmp: the kernel's strncmp (result -1, 0 or 1). */
import type { Memory } from "../memory.js";
import type { RuntimeHelper } from "./common.js";

/** strncmp over VM memory: stops at the first difference or NUL, at most `n` bytes. */
export function strncmpAt(memory: Memory, a: bigint, b: bigint, n: number): number {
  for (let i = 0; i < n; i++) {
    const c1 = Number(memory.readUint(a + BigInt(i), 1));
    const c2 = Number(memory.readUint(b + BigInt(i), 1));
    if (c1 !== c2) return c1 < c2 ? -1 : 1;
    if (c1 === 0) break;
  }
  return 0;
}

export const STRING_HELPERS: readonly RuntimeHelper[] = [
  // long bpf_strncmp(const char *s1, u32 s1_sz, const char *s2)
  { name: "bpf_strncmp", fn: (call) => strncmpAt(call.memory, call.arg(1), call.arg(3), call.argU32(2)) },
];
