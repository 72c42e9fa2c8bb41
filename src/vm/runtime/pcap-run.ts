/** Running a packet program (XDP, tc, socket filter, cgroup_skb) over every packet of a capture. */
import { TsbpfError } from "../../errors.js";
import { LINKTYPE_ETHERNET, type Capture, type CapturedPacket } from "../pcap/capture.js";
import type { VmProgram } from "./program.js";

export interface CaptureRunResult {
  /** Return value of each packet's run, in capture order. */
  readonly retvals: readonly number[];
  /** Packets per verdict name ("XDP_PASS": 4…), in first-seen order. */
  readonly verdicts: ReadonlyMap<string, number>;
  /** The packets that pass, as the program left them (truncated to what a socket filter keeps). */
  readonly passed: readonly CapturedPacket[];
  /** Wall time of the runs (context setup included), nanoseconds. */
  readonly totalNs: number;
}

/** Run `program` once per packet, like a test run with the packet as data_in. */
export function runCapture(program: VmProgram, capture: Capture): CaptureRunResult {
  const verdict = program.type.verdict;
  if (!verdict)
    throw new TsbpfError(
      `program '${program.name}' is ${program.type.name}: only packet programs run over a capture`,
    );
  const retvals: number[] = [];
  const verdicts = new Map<string, number>();
  const passed: CapturedPacket[] = [];
  const start = process.hrtime.bigint();
  capture.packets.forEach((p, i) => {
    if (p.linkType !== LINKTYPE_ETHERNET)
      throw new TsbpfError(`packet ${i + 1}: link type ${p.linkType} is not Ethernet (1)`);
    const r = program.testRun({ dataIn: p.data });
    retvals.push(r.retval);
    const v = verdict(r.retval);
    verdicts.set(v.name, (verdicts.get(v.name) ?? 0) + 1);
    if (v.passes) {
      let data = r.dataOut ?? p.data;
      if (v.keep !== undefined && v.keep < data.length) data = data.subarray(0, v.keep);
      passed.push({
        ...p,
        data,
        originalLength: Math.max(data.length, p.originalLength - p.data.length + data.length),
      });
    }
  });
  return { retvals, verdicts, passed, totalNs: Number(process.hrtime.bigint() - start) };
}
