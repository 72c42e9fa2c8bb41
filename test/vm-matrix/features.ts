/**
 * Prints the running kernel's features (test/helpers/requires.ts probes) as JSON. The matrix
 * runs it on every kernel: `node dist/test/vm-matrix/features.js [OUT.json]`.
 */
import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { release } from "node:os";
import { FEATURES, FEATURE_NAMES, featureStatus } from "../helpers/requires.js";

/** One kernel's probe results. */
export interface FeatureReport {
  readonly release: string;
  readonly features: Record<string, { present: boolean; note: string; description: string }>;
}

/** Probes every feature of requires.ts. */
export function probeAll(): FeatureReport {
  const features: FeatureReport["features"] = {};
  for (const name of FEATURE_NAMES) {
    const s = featureStatus(name);
    features[name] = {
      present: s.present,
      note: s.present ? s.detail : s.reason,
      description: FEATURES[name].description,
    };
  }
  return { release: release(), features };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = JSON.stringify(probeAll(), null, 2) + "\n";
  if (process.argv[2]) writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
}
