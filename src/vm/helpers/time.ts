/** Time helpers: bpf_ktime_get_ns, _boot_ns, _coarse_ns, bpf_jiffies64 (from the env's Clock). */
import { envOf, type RuntimeHelper } from "./common.js";

export const TIME_HELPERS: readonly RuntimeHelper[] = [
  { name: "bpf_ktime_get_ns", fn: (call) => envOf(call).clock.monotonicNs() },
  { name: "bpf_ktime_get_boot_ns", fn: (call) => envOf(call).clock.boottimeNs() },
  { name: "bpf_ktime_get_coarse_ns", fn: (call) => envOf(call).clock.coarseNs() },
  { name: "bpf_jiffies64", fn: (call) => envOf(call).clock.jiffies() },
];
