import { TsbpfError } from "../errors.js";
import { encode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { SyscallError, VerifierError, type InsnDescriber } from "./errors.js";
import { objectName } from "./map.js";
import {
  EAGAIN,
  ENOSPC,
  LogLevel,
  PROG_LOAD_ATTR,
  ProgramType,
  attrField,
  closeFd,
  getProgramInfo,
  objGet,
  objPin,
  parseAttachType,
  parseProgramType,
  progGetFdById,
  progGetNextId,
  progLoadRaw,
  type Encodable,
  type ProgramInfo,
  type ProgramInfoOptions,
} from "./sys/index.js";

/** struct bpf_func_info: a function's first instruction and its BTF FUNC type. */
export interface FuncInfo {
  readonly insnOff: number;
  readonly typeId: number;
}

/** struct bpf_line_info: an instruction's source position (offsets into the BTF string table). */
export interface LineInfo {
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** (line << 10) | column */
  readonly lineCol: number;
}

/** What BPF_PROG_LOAD needs. */
export interface ProgramSpec {
  /** A ProgramType or libbpf's name of one ("xdp", "socket_filter"). */
  type: ProgramType | string;
  /** Encoded bytecode or instructions. */
  insns: Uint8Array | readonly Instruction[];
  /** "GPL" (or a GPL-compatible license) unlocks GPL-only helpers. */
  license: string;
  /** At most 15 characters of [A-Za-z0-9_.]. */
  name?: string;
  /** An AttachType or its libbpf name, for types that need it at load time. */
  expectedAttachType?: number | string;
  /** BTF id of the kernel function/tracepoint a tracing program attaches to. */
  attachBtfId?: number;
  /** BTF object (module) holding attachBtfId; 0 for vmlinux. */
  attachBtfObjFd?: number;
  /** Program to attach to (freplace, fentry on BPF programs). */
  attachProgFd?: number;
  /** prog_flags (ProgFlags.*). */
  progFlags?: number;
  /** BTF of the program (needed with funcInfo/lineInfo). */
  btfFd?: number;
  funcInfo?: readonly FuncInfo[] | { bytes: Uint8Array; recSize: number; count: number };
  lineInfo?: readonly LineInfo[] | { bytes: Uint8Array; recSize: number; count: number };
  /** fds referred to by index from ld_imm64 (BPF_PSEUDO_MAP_IDX) and kfunc calls. */
  fdArray?: readonly number[];
  kernVersion?: number;
  ifindex?: number;
  tokenFd?: number;
}

/** How to run the verifier. */
export interface LoadOptions {
  /**
   * Verifier log level. 0 (default): no log unless loading fails, then a retry with level 1
   * to explain why. A level > 0 keeps the log of a successful load in `verifierLog`.
   */
  logLevel?: number;
  /** First log buffer size (default 64 KiB); it grows until the log fits. */
  logSize?: number;
  /** Largest log buffer (default 16 MiB); beyond it VerifierError keeps the log's tail. */
  maxLogSize?: number;
  /** Describes an instruction (e.g. its C source line from BTF line_info) in VerifierError. */
  describeInsn?: InsnDescriber;
}

const DEFAULT_LOG_SIZE = 64 * 1024;
const DEFAULT_MAX_LOG_SIZE = 16 * 1024 * 1024;
const EAGAIN_RETRIES = 5;

function records<T>(
  info: readonly T[] | { bytes: Uint8Array; recSize: number; count: number } | undefined,
  recSize: number,
  write: (view: DataView, offset: number, rec: T) => void,
): { bytes: Uint8Array | null; recSize: number; count: number } {
  if (!info) return { bytes: null, recSize: 0, count: 0 };
  if (!Array.isArray(info)) return info as { bytes: Uint8Array; recSize: number; count: number };
  const list = info as readonly T[];
  const bytes = new Uint8Array(list.length * recSize);
  const view = new DataView(bytes.buffer);
  list.forEach((rec, i) => write(view, i * recSize, rec));
  return { bytes, recSize, count: list.length };
}

/** A program loaded in the kernel, held by a file descriptor. */
export class KernelProgram {
  #fd: number;
  /** The verifier's log of a successful load when LoadOptions.logLevel > 0. */
  readonly verifierLog: string | undefined;

  private constructor(
    fd: number,
    readonly type: number,
    readonly name: string,
    /** The kernel's id of the program. */
    readonly id: number,
    /** The program's tag (hash of its instructions), 16 hex digits. */
    readonly tag: string,
    verifierLog?: string,
  ) {
    this.#fd = fd;
    this.verifierLog = verifierLog;
  }

  /**
   * Loads a program (BPF_PROG_LOAD). Without a log level the first attempt runs without a
   * log (fast, like libbpf); a failure is retried with a log that grows until it fits and
   * becomes a VerifierError carrying the whole log and a one-line summary.
   */
  static load(spec: ProgramSpec, options: LoadOptions = {}): KernelProgram {
    const name = objectName(spec.name, "program");
    const type = parseProgramType(spec.type);
    const insns = spec.insns instanceof Uint8Array ? spec.insns : encode(spec.insns);
    if (insns.byteLength === 0 || insns.byteLength % 8 !== 0) {
      throw new TsbpfError(
        `program '${name}': ${insns.byteLength} bytes of instructions (need a multiple of 8)`,
      );
    }
    const funcInfo = records(spec.funcInfo, 8, (v, o, r: FuncInfo) => {
      v.setUint32(o, r.insnOff, true);
      v.setUint32(o + 4, r.typeId, true);
    });
    const lineInfo = records(spec.lineInfo, 16, (v, o, r: LineInfo) => {
      v.setUint32(o, r.insnOff, true);
      v.setUint32(o + 4, r.fileNameOff, true);
      v.setUint32(o + 8, r.lineOff, true);
      v.setUint32(o + 12, r.lineCol, true);
    });
    const fdArray = spec.fdArray?.length ? new Uint8Array(Int32Array.from(spec.fdArray).buffer) : null;
    const base: Encodable<typeof PROG_LOAD_ATTR> = {
      prog_type: type,
      insn_cnt: insns.byteLength / 8,
      insns,
      license: spec.license,
      kern_version: spec.kernVersion ?? 0,
      prog_flags: spec.progFlags ?? 0,
      prog_name: name,
      prog_ifindex: spec.ifindex ?? 0,
      expected_attach_type:
        spec.expectedAttachType === undefined ? 0 : parseAttachType(spec.expectedAttachType),
      prog_btf_fd: spec.btfFd ?? 0,
      func_info_rec_size: funcInfo.recSize,
      func_info: funcInfo.bytes,
      func_info_cnt: funcInfo.count,
      line_info_rec_size: lineInfo.recSize,
      line_info: lineInfo.bytes,
      line_info_cnt: lineInfo.count,
      attach_btf_id: spec.attachBtfId ?? 0,
      attach_btf_obj_fd: spec.attachBtfObjFd ?? spec.attachProgFd ?? 0,
      fd_array: fdArray,
      prog_token_fd: spec.tokenFd ?? 0,
    };
    const what = `program '${name}'`;

    const attempt = (logLevel: number, log: Uint8Array | null) => {
      for (let tries = 0; ; tries++) {
        const r = progLoadRaw({ ...base, log_level: logLevel, log_size: log?.byteLength ?? 0, log_buf: log });
        if (r.ret !== -EAGAIN || tries >= EAGAIN_RETRIES) return r;
      }
    };
    const done = (fd: number, log?: string): KernelProgram => {
      try {
        const info = getProgramInfo(fd);
        return new KernelProgram(fd, type, name, info.id, info.tag, log);
      } catch (e) {
        closeFd(fd);
        throw e;
      }
    };

    const logLevel = options.logLevel ?? LogLevel.NONE;
    let errno: number;
    if (logLevel === LogLevel.NONE) {
      const r = attempt(0, null);
      if (r.ret >= 0) return done(r.ret);
      errno = -r.ret;
      // Without CAP_BPF there is nothing the verifier could explain.
      if (errno === 1 /* EPERM */)
        throw new SyscallError("BPF_PROG_LOAD", errno, { context: `load ${what}` });
    }

    const max = Math.min(options.maxLogSize ?? DEFAULT_MAX_LOG_SIZE, 0x3fffffff);
    let size = Math.min(options.logSize ?? DEFAULT_LOG_SIZE, max);
    for (;;) {
      const log = new Uint8Array(size);
      const r = attempt(logLevel || LogLevel.INSTRUCTIONS, log);
      const text = logText(log);
      if (r.ret >= 0) return done(r.ret, logLevel ? text : undefined);
      errno = -r.ret;
      if (errno === ENOSPC && size < max) {
        // Kernels >= 6.4 say how big the log is; older ones get a bigger buffer each time.
        const trueSize = attrField(PROG_LOAD_ATTR, r.attr, "log_true_size");
        size = Math.min(max, trueSize > size ? trueSize : size * 4);
        continue;
      }
      if (text.trim() === "") throw new SyscallError("BPF_PROG_LOAD", errno, { context: `load ${what}` });
      throw new VerifierError(name, errno, text, {
        truncated: errno === ENOSPC,
        describe: options.describeInsn,
      });
    }
  }

  /** Takes ownership of a program fd. */
  static fromFd(fd: number): KernelProgram {
    try {
      const info = getProgramInfo(fd);
      return new KernelProgram(fd, info.type, info.name, info.id, info.tag);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Opens the program with this id (BPF_PROG_GET_FD_BY_ID). */
  static fromId(id: number): KernelProgram {
    return KernelProgram.fromFd(progGetFdById(id));
  }

  /** Ids of every program in the kernel, in increasing order (BPF_PROG_GET_NEXT_ID). */
  static *ids(): Generator<number> {
    for (let id = progGetNextId(0); id !== undefined; id = progGetNextId(id)) yield id;
  }

  /** Opens the one program named `name`; TsbpfError when none or several have that name. */
  static fromName(name: string): KernelProgram {
    const found: number[] = [];
    for (const id of KernelProgram.ids()) {
      let fd: number;
      try {
        fd = progGetFdById(id);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === 2) continue; // gone meanwhile
        throw e;
      }
      try {
        if (getProgramInfo(fd).name === name) found.push(id);
      } finally {
        closeFd(fd);
      }
    }
    if (found.length === 0) throw new TsbpfError(`no program is named '${name}'`);
    if (found.length > 1) {
      throw new TsbpfError(
        `${found.length} programs are named '${name}' (ids ${found.join(", ")}): use an id`,
      );
    }
    return KernelProgram.fromId(found[0]!);
  }

  /** Opens the program pinned at `path` (BPF_OBJ_GET). */
  static fromPin(path: string): KernelProgram {
    return KernelProgram.fromFd(objGet(path));
  }

  /** The file descriptor; throws once the program is closed. */
  get fd(): number {
    if (this.#fd < 0) throw new TsbpfError(`program '${this.name}' (id ${this.id}) is closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Information from the kernel, with the translated instructions or JITed code on request. */
  info(options: ProgramInfoOptions = {}): ProgramInfo {
    return getProgramInfo(this.fd, options);
  }

  /** Pins the program at `path`, inside a bpffs mount. */
  pin(path: string): void {
    try {
      objPin(this.fd, path);
    } catch (e) {
      if (e instanceof SyscallError) {
        throw new SyscallError(e.call, e.errno, { context: `program '${this.name}': pin ${path}`, cause: e });
      }
      throw e;
    }
  }

  /** Closes the fd; the program lives on while pinned or attached. Idempotent. */
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

function logText(log: Uint8Array): string {
  const nul = log.indexOf(0);
  return new TextDecoder().decode(log.subarray(0, nul < 0 ? log.length : nul));
}
