/**
 * Formatted output with the kernel's rules (bpf_bprintf_prepare + bstr_printf): bpf_trace_printk
 * (at most 3 arguments), bpf_trace_vprintk and bpf_snprintf (arguments in a u64 array, at most 12).
 *
 * Accepted conversions: %d %i %u %x %X with optional l / ll, flags [0 +- ], a width, %c, %s, %pks,
 * %pus, %p %pK %px %ps %pS %pB (pointer value), %pI4 %pi4 %pI6 %pi6; %% prints '%'. Anything else, a
 * non-printable byte in the format, a format that is not NUL-terminated within its size, or more
 * conversions than arguments is -EINVAL. A string argument that cannot be read prints as "".
 * %p prints the raw value as 16 hex digits (the kernel hashes it unless kptr_restrict allows).
 */
import type { HelperCall } from "../helper-registry.js";
import type { Memory } from "../memory.js";
import { envOf, Errno, type RuntimeHelper } from "./common.js";

/** Arguments bpf_trace_printk takes after fmt and fmt_size. */
export const MAX_TRACE_PRINTK_ARGS = 3;
/** Most u64 arguments of bpf_trace_vprintk and bpf_snprintf (MAX_BPRINTF_VARARGS). */
export const MAX_BPRINTF_VARARGS = 12;
/** Size of the kernel's output buffer of the printk helpers (MAX_BPRINTF_BUF). */
export const MAX_BPRINTF_BUF = 1024;
/** Bytes available for string and IP arguments (MAX_BPRINTF_BIN_ARGS). */
const MAX_BPRINTF_BIN_ARGS = 512;

const isPrintable = (c: number): boolean => (c >= 0x20 && c < 0x7f) || (c >= 9 && c <= 13);
const isSpace = (c: number): boolean => c === 0x20 || (c >= 9 && c <= 13);
const isPunct = (c: number): boolean =>
  (c >= 0x21 && c <= 0x2f) ||
  (c >= 0x3a && c <= 0x40) ||
  (c >= 0x5b && c <= 0x60) ||
  (c >= 0x7b && c <= 0x7e);

/**
 * Format `fmt` (bytes up to their first NUL) with `args` as the kernel would. Returns the text, or
 * a negative errno when bpf_bprintf_prepare would refuse the format.
 */
export function formatBpf(fmt: Uint8Array, args: readonly bigint[], memory: Memory): string | number {
  const nul = fmt.indexOf(0);
  if (nul < 0) return -Errno.EINVAL;
  const f = fmt.subarray(0, nul + 1); // keep the NUL: the parser may look one past a conversion
  const at = (i: number): number => f[i] ?? 0;
  let out = "";
  let spec = 0;
  let stringBytes = 0; // of MAX_BPRINTF_BIN_ARGS
  for (let i = 0; i < nul; i++) {
    const c = f[i]!;
    if (!isPrintable(c)) return -Errno.EINVAL;
    if (c !== 0x25) {
      out += String.fromCharCode(c);
      continue;
    }
    if (at(i + 1) === 0x25) {
      out += "%";
      i++;
      continue;
    }
    if (spec >= args.length) return -Errno.EINVAL;
    const arg = args[spec]!;
    i++;
    let flags = "";
    while ([0x30, 0x2b, 0x2d, 0x20].includes(at(i))) flags += String.fromCharCode(f[i++]!);
    let width = 0;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      while (at(i) >= 0x30 && at(i) <= 0x39) width = width * 10 + (f[i++]! - 0x30);
    }
    const ch = String.fromCharCode(at(i));
    let text: string;
    if (ch === "p") {
      const next = at(i + 1);
      if ((next === 0x6b || next === 0x75) && at(i + 2) === 0x73) {
        // %pks / %pus
        i += 2;
        if (at(i + 1) !== 0 && !isSpace(at(i + 1)) && !isPunct(at(i + 1))) return -Errno.EINVAL;
        const s = readString(memory, arg, MAX_BPRINTF_BIN_ARGS - stringBytes);
        stringBytes += s.length + 1;
        text = s;
      } else if (
        next === 0 ||
        isSpace(next) ||
        isPunct(next) ||
        [0x4b, 0x78, 0x73, 0x53, 0x42].includes(next)
      ) {
        // %pK %px %ps %pS, and %pB (symbol+offset: the VM has no symbols, the value is printed)
        if (next !== 0 && !isSpace(next) && !isPunct(next)) i++;
        text = BigInt.asUintN(64, arg).toString(16).padStart(16, "0");
      } else if ((next === 0x69 || next === 0x49) && (at(i + 2) === 0x34 || at(i + 2) === 0x36)) {
        const v6 = at(i + 2) === 0x36;
        i += 2;
        text = formatIp(memory, arg, v6);
      } else return -Errno.EINVAL;
    } else if (ch === "s") {
      if (at(i + 1) !== 0 && !isSpace(at(i + 1)) && !isPunct(at(i + 1))) return -Errno.EINVAL;
      if (stringBytes >= MAX_BPRINTF_BIN_ARGS) return -Errno.ENOSPC;
      const s = readString(memory, arg, MAX_BPRINTF_BIN_ARGS - stringBytes);
      stringBytes += s.length + 1;
      text = s;
    } else if (ch === "c") {
      text = String.fromCharCode(Number(arg & 0xffn));
    } else {
      let bits = 32;
      if (at(i) === 0x6c) {
        bits = 64;
        i++;
      }
      if (at(i) === 0x6c) i++;
      const conv = String.fromCharCode(at(i));
      if (!"iduxX".includes(conv) || conv === "") return -Errno.EINVAL;
      const signed = conv === "d" || conv === "i";
      const v = signed ? BigInt.asIntN(bits, arg) : BigInt.asUintN(bits, arg);
      if (conv === "x") text = v.toString(16);
      else if (conv === "X") text = v.toString(16).toUpperCase();
      else text = v.toString();
      if (signed && v >= 0n && flags.includes("+")) text = "+" + text;
      else if (signed && v >= 0n && flags.includes(" ")) text = " " + text;
    }
    spec++;
    out += pad(text, width, flags, ch !== "s" && ch !== "c" && ch !== "p");
  }
  return out;
}

function pad(text: string, width: number, flags: string, numeric: boolean): string {
  if (text.length >= width) return text;
  if (flags.includes("-")) return text.padEnd(width, " ");
  if (numeric && flags.includes("0")) {
    const sign = /^[+\- ]/.test(text) ? text[0]! : "";
    return sign + text.slice(sign.length).padStart(width - sign.length, "0");
  }
  return text.padStart(width, " ");
}

/** A NUL-terminated string of at most `max` - 1 bytes; "" when unreadable (as the kernel). */
function readString(memory: Memory, address: bigint, max: number): string {
  const region = memory.regionAt(address);
  if (!region || max <= 0) return "";
  const offset = Number(BigInt.asUintN(64, address) & 0xffffffffn);
  if (offset >= region.length) return "";
  const bytes = region.bytes.subarray(offset, Math.min(region.length, offset + max - 1));
  const nul = bytes.indexOf(0);
  return new TextDecoder("latin1").decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

function formatIp(memory: Memory, address: bigint, v6: boolean): string {
  const n = v6 ? 16 : 4;
  let b: Uint8Array;
  try {
    b = memory.read(address, n);
  } catch {
    b = new Uint8Array(n);
  }
  if (!v6) return [...b].join(".");
  const words: string[] = [];
  for (let k = 0; k < 16; k += 2) words.push(((b[k]! << 8) | b[k + 1]!).toString(16).padStart(4, "0"));
  return words.join(":");
}

/** The trace_pipe line of a printk: "<comm>-<pid> [<cpu>] ..... <secs>: bpf_trace_printk: <text>". */
function traceLine(call: HelperCall, text: string): string {
  const env = envOf(call);
  const ns = env.clock.monotonicNs();
  const secs = `${ns / 1_000_000_000n}.${((ns / 1000n) % 1_000_000n).toString().padStart(6, "0")}`;
  const cpu = String(env.cpu).padStart(3, "0");
  return `${env.task.comm}-${env.task.pid} [${cpu}] ..... ${secs}: bpf_trace_printk: ${text}`;
}

/** Bytes of a format argument: [address, address + size), or undefined when unreadable. */
function formatBytes(call: HelperCall, address: bigint, size: number): Uint8Array | undefined {
  try {
    return call.memory.view(address, size);
  } catch {
    return undefined;
  }
}

/** The u64 array of vprintk/snprintf, or a negative errno. */
function argArray(call: HelperCall, address: bigint, length: number): bigint[] | number {
  if (length % 8 !== 0 || length > MAX_BPRINTF_VARARGS * 8 || (length !== 0 && address === 0n))
    return -Errno.EINVAL;
  const args: bigint[] = [];
  for (let k = 0; k < length; k += 8) args.push(call.memory.readUint(address + BigInt(k), 8));
  return args;
}

function emit(call: HelperCall, text: string | number): number {
  if (typeof text === "number") return text;
  const line = text.length >= MAX_BPRINTF_BUF ? text.slice(0, MAX_BPRINTF_BUF - 1) : text;
  envOf(call).trace(traceLine(call, line));
  return line.length;
}

export const PRINTK_HELPERS: readonly RuntimeHelper[] = [
  {
    name: "bpf_trace_printk",
    fn: (call) => {
      const fmt = formatBytes(call, call.arg(1), call.argU32(2));
      if (!fmt) return -Errno.EFAULT;
      const args = [call.arg(3), call.arg(4), call.arg(5)].slice(0, MAX_TRACE_PRINTK_ARGS);
      return emit(call, formatBpf(fmt, args, call.memory));
    },
  },
  {
    name: "bpf_trace_vprintk",
    fn: (call) => {
      const args = argArray(call, call.arg(3), call.argU32(4));
      if (typeof args === "number") return args;
      const fmt = formatBytes(call, call.arg(1), call.argU32(2));
      if (!fmt) return -Errno.EFAULT;
      return emit(call, formatBpf(fmt, args, call.memory));
    },
  },
  {
    name: "bpf_snprintf",
    fn: (call) => {
      const args = argArray(call, call.arg(4), call.argU32(5));
      if (typeof args === "number") return args;
      const region = call.memory.regionAt(call.arg(3));
      if (!region) return -Errno.EFAULT;
      const offset = Number(call.arg(3) & 0xffffffffn);
      const text = formatBpf(region.bytes.subarray(offset), args, call.memory);
      if (typeof text === "number") return text;
      const size = call.argU32(2);
      if (size > 0) {
        const out = call.memory.view(call.arg(1), size, true);
        const bytes = new TextEncoder().encode(text).subarray(0, size - 1);
        out.set(bytes);
        out[bytes.length] = 0;
      }
      return text.length + 1;
    },
  },
];
