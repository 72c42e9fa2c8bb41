import { ProgramBuilder, R0 } from "../../isa/builder.js";
import { HELPERS, helperById } from "../../isa/helpers.js";
import { ProgramType, programTypeName } from "../sys/index.js";
import { memoised, probeLoad, lastLogLine, type FeatureResult } from "./probe.js";
import { loadExtras, probeProgramType } from "./program-types.js";

/** The verifier's words for a helper the program type (or the kernel) does not offer. */
const UNSUPPORTED = /invalid func|unknown func|program of this type cannot use helper/;

/**
 * Whether programs of `type` may call helper `id`: loads a program calling it and reads the
 * verifier's answer, as libbpf does ("invalid func" / "unknown func" = not available; any other
 * complaint, e.g. about the arguments, means the verifier accepted the call itself).
 */
export function probeHelper(type: ProgramType, id: number): FeatureResult {
  const helper = helperById(id)?.name ?? `helper ${id}`;
  const typeName = programTypeName(type);
  return memoised(`helper ${helper} in ${typeName}`, () => {
    const insns = new ProgramBuilder().call(id).mov(R0, 0).exit().build();
    const r = probeLoad({ prog_type: type, ...loadExtras(type) }, insns);
    if (r.ok) return { supported: true, detail: `${typeName} programs can call ${helper}` };
    const line = lastLogLine(r.log);
    if (UNSUPPORTED.test(r.log) || r.log === "")
      return {
        supported: false,
        detail: `${typeName} programs cannot call ${helper}${line ? ` ("${line}")` : ` (${r.errnoName})`}`,
      };
    return {
      supported: true,
      detail: `the verifier accepts the call of ${helper} in ${typeName} ("${line}")`,
    };
  });
}

/**
 * Helpers (id and name) callable from programs of `type`, probing each helper once; none when
 * a minimal program of the type does not load (nothing could be learnt).
 */
export function supportedHelpers(type: ProgramType): { id: number; name: string }[] {
  const probe = probeProgramType(type);
  if (!probe.supported || !probe.detail.startsWith("a minimal")) return [];
  return HELPERS.filter((h) => probeHelper(type, h.id).supported).map((h) => ({ id: h.id, name: h.name }));
}
