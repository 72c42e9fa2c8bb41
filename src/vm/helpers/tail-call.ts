/** bpf_tail_call through the VM's prog arrays. */
import { TsbpfError } from "../../errors.js";
import { Errno } from "../maps/constants.js";
import { ProgArrayMap } from "../maps/prog-array.js";
import { mapArg, type Maker } from "./maps.js";

export const TAIL_CALL_HELPERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  [
    "bpf_tail_call",
    (envOf) => (call) => {
      const map = mapArg(call, envOf(call), 2);
      if (!(map instanceof ProgArrayMap))
        throw new TsbpfError(`map '${map.name}' (${map.typeName}) is not a prog array`);
      // On success the program continues in the target; on failure (no program in the slot,
      // index out of range, or 33 tail calls already made) it goes on after the call.
      const target = map.program(call.argU32(3));
      if (!target || !call.tailCall(target)) return -Errno.ENOENT;
      return 0;
    },
  ],
]);
