/**
 * Loading an object's BTF into the kernel (libbpf's bpf_object__sanitize_and_load_btf). The
 * fixes the blob needs first are the object model's (src/object/btf-fixup.ts).
 */
import { TsbpfError } from "../../errors.js";
import { SyscallError } from "../errors.js";
import { ENOSPC, attrField, BTF_LOAD_ATTR, btfLoadRaw, closeFd } from "../sys/index.js";

/** A BTF object loaded in the kernel (BPF_BTF_LOAD), held by a file descriptor. */
export class KernelBtf {
  #fd: number;
  constructor(fd: number) {
    this.#fd = fd;
  }
  get fd(): number {
    if (this.#fd < 0) throw new TsbpfError("BTF object is closed");
    return this.#fd;
  }
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** BPF_BTF_LOAD rejected a blob: the kernel's BTF log says why. */
export class BtfLoadError extends SyscallError {
  override name = "BtfLoadError";
  constructor(
    errno: number,
    readonly log: string,
  ) {
    const last = log
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-2)
      .join("; ");
    super("BPF_BTF_LOAD", errno, { context: "load object BTF", hint: last || undefined });
  }
}

/** Loads raw BTF into the kernel; on failure retries with a log to explain why. */
export function loadBtfBlob(blob: Uint8Array): KernelBtf {
  const base = { btf: blob, btf_size: blob.byteLength };
  const first = btfLoadRaw({ ...base, btf_log_level: 0, btf_log_size: 0, btf_log_buf: null });
  if (first.ret >= 0) return new KernelBtf(first.ret);
  let size = 64 * 1024;
  for (let tries = 0; tries < 4; tries++) {
    const log = new Uint8Array(size);
    const r = btfLoadRaw({ ...base, btf_log_level: 1, btf_log_size: size, btf_log_buf: log });
    if (r.ret >= 0) return new KernelBtf(r.ret); // the log run succeeded: keep it
    const nul = log.indexOf(0);
    const text = new TextDecoder().decode(log.subarray(0, nul < 0 ? log.length : nul));
    if (-r.ret === ENOSPC) {
      size = Math.max(size * 4, attrField(BTF_LOAD_ATTR, r.attr, "btf_log_true_size"));
      continue;
    }
    throw new BtfLoadError(-r.ret, text);
  }
  throw new BtfLoadError(-first.ret, "");
}

export {
  elfLayout,
  prepareObjectBtf,
  sanitizeBtfKinds,
  specDatasecLayout,
  type PreparedBtf,
  type SectionLayout,
} from "../../object/btf-fixup.js";
