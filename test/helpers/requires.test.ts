import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FEATURES,
  FEATURE_NAMES,
  REQUIRES_PREFIX,
  featureStatus,
  missingFeatures,
  presentFeatures,
} from "./requires.js";

test("every feature probe answers present (with what it saw) or absent (with why)", () => {
  assert.deepEqual(FEATURE_NAMES, Object.keys(FEATURES));
  for (const f of FEATURE_NAMES) {
    const s = featureStatus(f);
    assert.ok((s.present ? s.detail : s.reason).length > 0, f);
    assert.equal(featureStatus(f), s, "probed once per process");
  }
});

test("each feature gives exactly one of the requires / lacks skip reasons", () => {
  assert.equal(missingFeatures([]), undefined);
  assert.equal(presentFeatures([]), undefined);
  for (const f of FEATURE_NAMES) {
    const missing = missingFeatures([f]);
    const present = presentFeatures([f]);
    assert.ok((missing === undefined) !== (present === undefined), f);
    if (missing) assert.ok(missing.startsWith(`${REQUIRES_PREFIX}${f} (`), missing);
    if (present) assert.ok(present.startsWith(`${REQUIRES_PREFIX}no ${f} (the kernel has it: `), present);
  }
});

test("missingFeatures names every missing feature of the list, and only those", () => {
  const absent = FEATURE_NAMES.filter((f) => !featureStatus(f).present);
  const there = FEATURE_NAMES.filter((f) => featureStatus(f).present);
  const reason = missingFeatures(FEATURE_NAMES);
  if (absent.length === 0) return assert.equal(reason, undefined);
  for (const f of absent) assert.ok(reason!.includes(`${f} (`), `${f} in ${reason}`);
  for (const f of there)
    assert.ok(!reason!.match(new RegExp(`(^requires |, )${f} \\(`)), `${f} not in ${reason}`);
});
