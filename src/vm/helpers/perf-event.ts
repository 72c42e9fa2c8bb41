/** bpf_perf_event_output on the VM's perf event arrays. */
import { TsbpfError } from "../../errors.js";
import { BPF_F_CTXLEN_MASK, BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK, Errno } from "../maps/constants.js";
import { PerfEventArrayMap } from "../maps/perf-event-array.js";
import { bytesArg, mapArg, type Maker } from "./maps.js";

export const PERF_EVENT_HELPERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  [
    "bpf_perf_event_output",
    (envOf) => (call) => {
      const env = envOf(call);
      const map = mapArg(call, env, 2);
      if (!(map instanceof PerfEventArrayMap))
        throw new TsbpfError(`map '${map.name}' (${map.typeName}) is not a perf event array`);
      const flags = call.arg(3);
      if (flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) return -Errno.EINVAL;
      const indexBits = flags & BPF_F_INDEX_MASK;
      const index = indexBits === BPF_F_CURRENT_CPU ? env.cpu : Number(indexBits);
      let data = bytesArg(call, 4, call.argNumber(5));
      const ctxLen = Number((flags & BPF_F_CTXLEN_MASK) >> 32n);
      if (ctxLen > 0) {
        // skb/xdp programs may append the first ctxLen bytes of the packet to the sample.
        const extra = env.contextBytes?.(call.arg(1), ctxLen);
        if (!extra) return -Errno.EINVAL;
        const joined = new Uint8Array(data.length + extra.length);
        joined.set(data);
        joined.set(extra, data.length);
        data = joined;
      }
      return map.output(index, env.cpu, data);
    },
  ],
]);
