/** bpf_ringbuf_output / reserve / submit / discard / query on the VM's ring buffers. */
import { TsbpfError } from "../../errors.js";
import type { HelperCall } from "../helper-registry.js";
import { hexAddress } from "../fault.js";
import { regionOwner } from "../maps/map.js";
import { RingbufMap } from "../maps/ringbuf.js";
import { bytesArg, flagsArg, mapArg, type MapEnvAccessor, type MapHelperEnv, type Maker } from "./maps.js";
import { Errno } from "../maps/constants.js";

function ringArg(call: HelperCall, env: MapHelperEnv): RingbufMap {
  const map = mapArg(call, env, 1);
  if (!(map instanceof RingbufMap))
    throw new TsbpfError(`map '${map.name}' (${map.typeName}) is not a ring buffer`);
  return map;
}

/** The ring buffer a reserved sample pointer (r1) belongs to. */
function sampleRing(call: HelperCall): RingbufMap {
  const address = call.arg(1);
  const map = regionOwner(call.memory, address);
  if (!(map instanceof RingbufMap))
    throw new TsbpfError(`r1 = ${hexAddress(address)} is not a ring buffer sample`);
  return map;
}

export const RINGBUF_HELPERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  [
    "bpf_ringbuf_output",
    (envOf: MapEnvAccessor) => (call) => {
      const ring = ringArg(call, envOf(call));
      const flags = flagsArg(call, 4);
      if (flags < 0) return -Errno.EINVAL;
      return ring.output(bytesArg(call, 2, call.argU32(3)), flags);
    },
  ],
  [
    "bpf_ringbuf_reserve",
    (envOf) => (call) => {
      const ring = ringArg(call, envOf(call));
      if (call.arg(3) !== 0n) return 0n;
      return ring.reserve(call.argNumber(2));
    },
  ],
  ["bpf_ringbuf_submit", () => (call) => void sampleRing(call).commit(call.arg(1), call.argU32(2), false)],
  ["bpf_ringbuf_discard", () => (call) => void sampleRing(call).commit(call.arg(1), call.argU32(2), true)],
  [
    "bpf_ringbuf_query",
    (envOf) => (call) => {
      const ring = ringArg(call, envOf(call));
      return call.argHigh32(2) !== 0 ? 0n : ring.query(call.argU32(2));
    },
  ],
]);
