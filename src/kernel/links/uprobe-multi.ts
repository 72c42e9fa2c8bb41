import { TsbpfError } from "../../errors.js";
import type { KernelProgram } from "../program.js";
import { AttachType, linkCreate } from "../sys/index.js";
import { resolveBinaryPath } from "../uprobe/resolve.js";
import { symbolFileOffset } from "../uprobe/symbol-offset.js";
import { RawLink } from "./link.js";

/** BPF_F_UPROBE_MULTI_RETURN */
const UPROBE_MULTI_RETURN = 1;

/** Options of a uprobe.multi attachment (6.6). */
export interface UprobeMultiOptions {
  /** The binary: a path or a library name (see UprobeOptions.target). */
  target: string;
  /** Function symbols of the binary; or give `offsets`. */
  symbols?: readonly string[];
  /** File offsets (instead of, or one per, symbol: added to it). */
  offsets?: readonly number[];
  /** USDT semaphore offsets, one per probe. */
  refCtrOffsets?: readonly number[];
  /** One bpf_get_attach_cookie() value per probe. */
  cookies?: readonly bigint[];
  /** Only this process. */
  pid?: number;
  /** Probe the functions' returns. */
  ret?: boolean;
}

function u64Array(values: readonly (bigint | number)[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigUint64(i * 8, BigInt(v), true));
  return out;
}

/**
 * Attaches one program to many places of a binary (BPF_LINK_CREATE with BPF_TRACE_UPROBE_MULTI;
 * the program is loaded with that expected attach type).
 */
export function attachUprobeMulti(prog: KernelProgram | number, options: UprobeMultiOptions): RawLink {
  const path = resolveBinaryPath(options.target, options.pid);
  const symbols = options.symbols ?? [];
  let offsets: number[];
  if (symbols.length) {
    if (options.offsets && options.offsets.length !== symbols.length)
      throw new TsbpfError(`uprobe.multi: ${options.offsets.length} offsets for ${symbols.length} symbols`);
    offsets = symbols.map((s, i) => symbolFileOffset(path, s).offset + (options.offsets?.[i] ?? 0));
  } else {
    offsets = [...(options.offsets ?? [])];
  }
  const count = offsets.length;
  if (count === 0) throw new TsbpfError("uprobe.multi: give symbols or offsets");
  for (const [what, list] of [
    ["cookies", options.cookies],
    ["refCtrOffsets", options.refCtrOffsets],
  ] as const) {
    if (list && list.length !== count)
      throw new TsbpfError(`uprobe.multi: ${list.length} ${what} for ${count} probes`);
  }
  const progFd = typeof prog === "number" ? prog : prog.fd;
  const fd = linkCreate(
    {
      prog_fd: progFd,
      attach_type: AttachType.TRACE_UPROBE_MULTI,
      "uprobe_multi.path": path,
      "uprobe_multi.offsets": u64Array(offsets),
      "uprobe_multi.ref_ctr_offsets": options.refCtrOffsets ? u64Array(options.refCtrOffsets) : null,
      "uprobe_multi.cookies": options.cookies ? u64Array(options.cookies) : null,
      "uprobe_multi.cnt": count,
      "uprobe_multi.flags": options.ret ? UPROBE_MULTI_RETURN : 0,
      "uprobe_multi.pid": options.pid ?? 0,
    },
    `attach uprobe.multi on ${path} (${count} probes)`,
  );
  return new RawLink(fd, options.ret ? "uretprobe.multi" : "uprobe.multi");
}
