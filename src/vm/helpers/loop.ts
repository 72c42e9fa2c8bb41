/** bpf_loop: runs a callback of the program up to 1 << 23 times (BPF_MAX_LOOPS). */
import { Errno, type RuntimeHelper } from "./common.js";

/** Most iterations of bpf_loop and of open-coded iterators (the kernel's BPF_MAX_LOOPS). */
export const BPF_MAX_LOOPS = 1 << 23;

export const LOOP_HELPERS: readonly RuntimeHelper[] = [
  {
    // long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags)
    name: "bpf_loop",
    fn: (call) => {
      if (call.arg(4) !== 0n) return -Errno.EINVAL;
      const n = call.argU32(1);
      if (n > BPF_MAX_LOOPS) return -Errno.E2BIG;
      const fn = call.arg(2);
      const ctx = call.arg(3);
      for (let i = 0; i < n; i++) {
        // the callback returns 0 to continue, 1 to stop (the verifier allows only these)
        if (call.callFunction(fn, BigInt(i), ctx) !== 0n) return i + 1;
      }
      return n;
    },
  },
];
