import { SyscallError } from "./errors.js";
import type { KernelProgram } from "./program.js";
import { ENOSPC, progTestRun } from "./sys/index.js";

/** Inputs of a test run (BPF_PROG_TEST_RUN). */
export interface TestRunOptions {
  /** Packet (or other data) the program sees. */
  dataIn?: Uint8Array;
  /** Room for the data the program leaves (default: input length + 256, grown when too small). */
  dataSizeOut?: number;
  /** Context the program gets (e.g. struct __sk_buff, struct xdp_md, syscall args). */
  ctxIn?: Uint8Array;
  /** Room for the context after the run (default: the input context's size). */
  ctxSizeOut?: number;
  /** Runs to average the duration over (default 1). */
  repeat?: number;
  /** TestRunFlags.* */
  flags?: number;
  /** CPU to run on with TestRunFlags.RUN_ON_CPU. */
  cpu?: number;
  /** XDP live-frames mode: frames per batch. */
  batchSize?: number;
}

/** Outputs of a test run. */
export interface TestRunResult {
  /** The program's return value (of the last run). */
  readonly retval: number;
  /** The data after the run (absent when no data went in). */
  readonly dataOut?: Uint8Array;
  /** The context after the run (absent when no context went in). */
  readonly ctxOut?: Uint8Array;
  /** Average duration of one run, in ns. */
  readonly duration: number;
}

const GROWTHS = 3;

/** Runs a loaded program once (or `repeat` times) on the given data and context in the kernel. */
export function testRun(prog: KernelProgram | number, options: TestRunOptions = {}): TestRunResult {
  const progFd = typeof prog === "number" ? prog : prog.fd;
  let dataSize = options.dataSizeOut ?? (options.dataIn ? options.dataIn.byteLength + 256 : 0);
  let ctxSize = options.ctxSizeOut ?? options.ctxIn?.byteLength ?? 0;
  for (let growth = 0; ; growth++) {
    const dataOut = dataSize ? new Uint8Array(dataSize) : null;
    const ctxOut = ctxSize ? new Uint8Array(ctxSize) : null;
    try {
      const r = progTestRun({
        progFd,
        dataIn: options.dataIn ?? null,
        dataOut,
        ctxIn: options.ctxIn ?? null,
        ctxOut,
        repeat: options.repeat ?? 0,
        flags: options.flags ?? 0,
        cpu: options.cpu ?? 0,
        batchSize: options.batchSize ?? 0,
      });
      return {
        retval: r.retval,
        duration: r.duration,
        ...(dataOut ? { dataOut: dataOut.slice(0, Math.min(r.dataSizeOut, dataOut.byteLength)) } : {}),
        ...(ctxOut ? { ctxOut: ctxOut.slice(0, Math.min(r.ctxSizeOut, ctxOut.byteLength)) } : {}),
      };
    } catch (e) {
      // The program grew the packet or context beyond the room given: run again with more.
      if (e instanceof SyscallError && e.errno === ENOSPC && growth < GROWTHS) {
        dataSize = dataSize ? dataSize * 4 : 0;
        ctxSize = ctxSize ? ctxSize * 4 : 0;
        continue;
      }
      if (e instanceof SyscallError) {
        const name = typeof prog === "number" ? `fd ${prog}` : `'${prog.name}'`;
        throw new SyscallError(e.call, e.errno, { context: `test run of program ${name}`, cause: e });
      }
      throw e;
    }
  }
}
