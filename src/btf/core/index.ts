export {
  resolveCoreRelocations,
  sourceLineAt,
  CoreRelocationError,
  type CoreRelocationErrorDetails,
  type CoreRelocationResult,
  type ResolveCoreOptions,
  type ResolvedCore,
  type SourceLine,
} from "./resolve.js";
export {
  parseCoreSpec,
  parseAccessString,
  CoreSpecError,
  CORE_SPEC_MAX_LEN,
  type CoreAccessor,
  type CoreSpec,
} from "./spec.js";
export { accessExpression, describeType, formatCoreSpec } from "./format.js";
export { essentialName } from "./names.js";
export { findCandidates, type CoreCandidate } from "./candidates.js";
export { matchSpec, type SpecMatch } from "./target.js";
export { typesAreCompatible, fieldsAreCompatible } from "./compat.js";
export { typesMatch } from "./match.js";
export { calcRelocation, type CoreReloValue } from "./calc.js";
export {
  patchInstruction,
  poisonInstruction,
  isPoisonedInstruction,
  CORE_POISON_HELPER,
  CORE_POISON_CALL,
  CORE_POISON_LDDW,
  type PatchOutcome,
} from "./patch.js";
export { describeCoreRelo } from "./objdump.js";
