/** bpf_get_prandom_u32: the env's seedable generator. */
import { envOf, type RuntimeHelper } from "./common.js";

export const RANDOM_HELPERS: readonly RuntimeHelper[] = [
  { name: "bpf_get_prandom_u32", fn: (call) => envOf(call).random.nextU32() },
];
