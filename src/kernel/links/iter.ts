import { SyscallError } from "../errors.js";
import type { KernelMap } from "../map.js";
import type { KernelProgram } from "../program.js";
import { AttachType, closeFd, iterCreate, linkCreate, syscalls } from "../sys/index.js";
import { RawLink, wrap } from "./link.js";

/** What an iterator walks, when it needs a target (union bpf_iter_link_info). */
export interface IterOptions {
  /** For bpf_map_elem / bpf_sk_storage_map iterators: the map whose elements are walked (5.9). */
  map?: KernelMap | number;
  /** For task/task_file/task_vma iterators: one task (tid) or one process (pid) only (6.1). */
  tid?: number;
  pid?: number;
  /** For cgroup iterators: the cgroup fd and the walk order (6.1). */
  cgroupFd?: number;
  cgroupOrder?: number;
}

/** union bpf_iter_link_info, when a target is given. */
function iterInfo(options: IterOptions): Uint8Array | null {
  const info = new Uint8Array(16);
  const view = new DataView(info.buffer);
  if (options.map !== undefined)
    view.setUint32(0, typeof options.map === "number" ? options.map : options.map.fd, true);
  else if (options.cgroupFd !== undefined) {
    view.setUint32(0, options.cgroupOrder ?? 0, true);
    view.setUint32(4, options.cgroupFd, true);
  } else if (options.tid !== undefined) view.setUint32(0, options.tid, true);
  else if (options.pid !== undefined) view.setUint32(4, options.pid, true);
  else return null;
  return info;
}

/**
 * A BPF iterator (BPF_TRACE_ITER link, 5.8). Each open() runs the program over the kernel objects
 * (tasks, tcp sockets, ksyms, maps…) and yields what it writes with bpf_seq_write/printf.
 */
export class IterLink extends RawLink {
  /** Opens a new iterator instance (BPF_ITER_CREATE): an fd to read(2) until end of file. */
  open(): number {
    return wrap("create iterator", () => iterCreate(this.fd));
  }

  /** Runs the iterator once and returns everything it wrote. */
  readAll(): Uint8Array {
    const chunks: Uint8Array[] = [];
    for (const chunk of this.chunks()) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** Runs the iterator once and returns its output as UTF-8 text. */
  readText(): string {
    return new TextDecoder().decode(this.readAll());
  }

  /** The output of one run, chunk by chunk (each read(2) of the iterator fd). */
  *chunks(chunkSize = 64 * 1024): Generator<Uint8Array> {
    const fd = this.open();
    const sys = syscalls();
    try {
      for (;;) {
        const buf = new Uint8Array(chunkSize);
        const n = sys.read(fd, buf);
        if (n === -4 /* EINTR */ || n === -11 /* EAGAIN */) continue;
        if (n < 0) throw new SyscallError("read", -n, { context: `read ${this.kind} iterator` });
        if (n === 0) return;
        yield buf.subarray(0, n);
      }
    } finally {
      closeFd(fd);
    }
  }

  /** The output of one run as an async iterable (reads are short: the event loop keeps going). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (const chunk of this.chunks()) {
      yield chunk;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * Attaches an iterator program (BPF_PROG_TYPE_TRACING loaded with expected attach type
 * TRACE_ITER and the attachBtfId of "bpf_iter_TARGET"): task, tcp, ksym, bpf_map, bpf_map_elem…
 */
export function attachIter(prog: KernelProgram | number, options: IterOptions = {}): IterLink {
  const info = iterInfo(options);
  const fd = linkCreate(
    {
      prog_fd: typeof prog === "number" ? prog : prog.fd,
      attach_type: AttachType.TRACE_ITER,
      iter_info: info,
      iter_info_len: info?.byteLength ?? 0,
    },
    "attach iterator",
  );
  return new IterLink(fd, "iter");
}
