/**
 * The open-coded numeric iterator kfuncs (kernel 6.4+). `struct bpf_iter_num` (8 bytes, in the
 * program's stack) holds the kernel's { int cur; int end; }; next returns the address of `cur`.
 */
import type { HelperCall, HelperFunction } from "../helper-registry.js";
import { Errno } from "./common.js";
import { BPF_MAX_LOOPS } from "./loop.js";

function state(call: HelperCall): DataView {
  const b = call.memory.view(call.arg(1), 8, true);
  return new DataView(b.buffer, b.byteOffset, 8);
}

/** Kfunc implementations by name. */
export const ITER_NUM_KFUNCS: Readonly<Record<string, HelperFunction>> = {
  // int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end)
  bpf_iter_num_new: (call) => {
    const s = state(call);
    s.setInt32(0, 0, true);
    s.setInt32(4, 0, true);
    const start = call.argU32(2) | 0;
    const end = call.argU32(3) | 0;
    if (start > end) return -Errno.EINVAL;
    if (end - start > BPF_MAX_LOOPS) return -Errno.E2BIG;
    s.setInt32(0, start - 1, true);
    s.setInt32(4, end, true);
    return 0;
  },
  // int *bpf_iter_num_next(struct bpf_iter_num *it): &cur, or NULL when done
  bpf_iter_num_next: (call) => {
    const s = state(call);
    const cur = s.getInt32(0, true);
    const end = s.getInt32(4, true);
    if (cur + 1 >= end) {
      s.setInt32(0, 0, true);
      s.setInt32(4, 0, true);
      return 0n;
    }
    s.setInt32(0, cur + 1, true);
    return call.arg(1);
  },
  // void bpf_iter_num_destroy(struct bpf_iter_num *it)
  bpf_iter_num_destroy: (call) => {
    const s = state(call);
    s.setInt32(0, 0, true);
    s.setInt32(4, 0, true);
  },
};
