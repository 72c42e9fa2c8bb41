/**
 * probe_read helpers: copy from host-provided memory regions. A bad source address (unmapped, out
 * of its region, or a region the env does not expose) zeroes the destination and returns -EFAULT,
 * as the kernel's copy_from_kernel_nofault / copy_from_user_nofault.
 */
import type { HelperCall } from "../helper-registry.js";
import type { Region } from "../memory.js";
import { envOf, Errno, type RuntimeHelper } from "./common.js";

type Space = "kernel" | "user";

function source(
  call: HelperCall,
  space: Space,
  address: bigint,
): { region: Region; offset: number } | undefined {
  const region = call.memory.regionAt(address);
  if (!region) return undefined;
  const env = envOf(call);
  const allowed = space === "kernel" ? env.kernelRegions : env.userRegions;
  if (allowed && !allowed(region)) return undefined;
  return { region, offset: Number(BigInt.asUintN(64, address) & 0xffffffffn) };
}

/** long probe_read(void *dst, u32 size, const void *unsafe_ptr) */
function probeRead(space: Space) {
  return (call: HelperCall): number => {
    const size = call.argU32(2);
    const dst = call.memory.view(call.arg(1), size, true);
    const src = source(call, space, call.arg(3));
    if (!src || src.offset + size > src.region.length) {
      dst.fill(0);
      return -Errno.EFAULT;
    }
    dst.set(src.region.bytes.subarray(src.offset, src.offset + size));
    return 0;
  };
}

/** long probe_read_str(void *dst, u32 size, const void *unsafe_ptr): length with the NUL. */
function probeReadStr(space: Space) {
  return (call: HelperCall): number => {
    const size = call.argU32(2);
    if (size === 0) return 0;
    const dst = call.memory.view(call.arg(1), size, true);
    const src = source(call, space, call.arg(3));
    if (!src || src.offset >= src.region.length) {
      dst.fill(0);
      return -Errno.EFAULT;
    }
    const avail = src.region.bytes.subarray(src.offset, Math.min(src.region.length, src.offset + size - 1));
    const nul = avail.indexOf(0);
    const n = nul < 0 ? avail.length : nul;
    if (nul < 0 && n < size - 1) {
      // the string runs off its region before a NUL: a fault, as in the kernel
      dst.fill(0);
      return -Errno.EFAULT;
    }
    dst.set(avail.subarray(0, n));
    dst[n] = 0;
    return n + 1;
  };
}

export const PROBE_READ_HELPERS: readonly RuntimeHelper[] = [
  { name: "bpf_probe_read", fn: probeRead("kernel") },
  { name: "bpf_probe_read_str", fn: probeReadStr("kernel") },
  { name: "bpf_probe_read_kernel", fn: probeRead("kernel") },
  { name: "bpf_probe_read_kernel_str", fn: probeReadStr("kernel") },
  { name: "bpf_probe_read_user", fn: probeRead("user") },
  { name: "bpf_probe_read_user_str", fn: probeReadStr("user") },
];
