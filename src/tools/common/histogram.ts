/**
 * Histograms printed exactly as BCC's Python tools print them (table.py print_log2_hist and
 * print_linear_hist), and as JSON. Slot i of a log2 histogram counts values v with
 * floor(log2(v)) == i (slot 0 also counts 0), the libbpf-tools layout (`log2l` in bits.bpf.h):
 *
 *          usecs               : count     distribution
 *              0 -> 1          : 0        |                                        |
 *              2 -> 3          : 4        |****                                    |
 */

/** Upper bound of the stars bar (BCC's stars_max). */
export const STARS_MAX = 40;

/** BCC's _stars(): `width * val / max` stars, '+' at the end when val exceeds max. */
export function stars(val: number, max: number, width: number): string {
  if (max <= 0) return "";
  let n = 0;
  while (!(n > (width * val) / max - 1 || n > width - 1)) n++;
  let text = "*".repeat(n);
  if (val > max) text = text.slice(0, -1) + "+";
  return text;
}

export interface HistogramOptions {
  /** Skip the empty rows before the first non-empty one (BCC's strip_leading_zero). */
  readonly stripLeadingZero?: boolean;
}

/** One row of a log2 histogram: the value range [low, high] and its count. */
export interface Log2Row {
  readonly low: number;
  readonly high: number;
  readonly count: number;
}

/** The rows of a log2 histogram up to its last non-empty slot (empty when all are zero). */
export function log2Rows(slots: ArrayLike<number>): Log2Row[] {
  let last = -1;
  for (let i = 0; i < slots.length; i++) if ((slots[i] ?? 0) > 0) last = i;
  const rows: Log2Row[] = [];
  for (let i = 0; i <= last; i++) {
    let low = 2 ** i;
    const high = 2 ** (i + 1) - 1;
    if (i === 0) low = 0;
    rows.push({ low, high, count: slots[i] ?? 0 });
  }
  return rows;
}

/**
 * The lines of a log2 histogram in BCC's format (`valType` is the unit column: "usecs",
 * "msecs", "kbytes"...). Empty when every slot is zero, as BCC prints nothing then.
 */
export function formatLog2Histogram(
  slots: ArrayLike<number>,
  valType: string,
  options: HistogramOptions = {},
): string[] {
  const rows = log2Rows(slots);
  if (rows.length === 0) return [];
  const max = Math.max(...rows.map((r) => r.count));
  // BCC switches to wide columns past its slot 32 (values of more than 32 bits); its slot
  // numbers are ours plus one (bpf_log2l gives floor(log2(v)) + 1).
  const wide = rows.length > 32;
  const width = wide ? 20 : 10;
  const starWidth = wide ? STARS_MAX / 2 : STARS_MAX;
  const lines = [
    wide
      ? `               ${valType.padEnd(29)} : count     distribution`
      : `     ${valType.padEnd(19)} : count     distribution`,
  ];
  let strip = options.stripLeadingZero ?? false;
  for (const r of rows) {
    if (strip && r.count === 0) continue;
    strip = false;
    lines.push(
      `${String(r.low).padStart(width)} -> ${String(r.high).padEnd(width)} : ${String(r.count).padEnd(8)} |${stars(r.count, max, starWidth).padEnd(starWidth)}|`,
    );
  }
  return lines;
}

/**
 * A linear histogram (BCC print_linear_hist): slot i is printed as `base + i * step`, rows from
 * slot 0 (or the first non-empty one with stripLeadingZero) to the last non-empty one.
 */
export function formatLinearHistogram(
  slots: ArrayLike<number>,
  valType: string,
  options: HistogramOptions & { step?: number; base?: number } = {},
): string[] {
  let last = -1;
  let max = 0;
  for (let i = 0; i < slots.length; i++) {
    const v = slots[i] ?? 0;
    if (v > 0) last = i;
    max = Math.max(max, v);
  }
  if (last < 0) return [];
  const step = options.step ?? 1;
  const base = options.base ?? 0;
  const lines = [`     ${valType.padEnd(13)} : count     distribution`];
  let strip = options.stripLeadingZero ?? false;
  for (let i = 0; i <= last; i++) {
    const v = slots[i] ?? 0;
    if (strip && v === 0) continue;
    strip = false;
    lines.push(
      `        ${String(base + i * step).padEnd(10)} : ${String(v).padEnd(8)} |${stars(v, max, STARS_MAX).padEnd(STARS_MAX)}|`,
    );
  }
  return lines;
}

/** A log2 histogram as JSON: `{"unit": "usecs", "buckets": [{"low":0,"high":1,"count":3}, ...], "total": N}`. */
export function log2HistogramJson(
  slots: ArrayLike<number>,
  unit: string,
): { unit: string; buckets: Log2Row[]; total: number } {
  const buckets = log2Rows(slots);
  return { unit, buckets, total: buckets.reduce((s, b) => s + b.count, 0) };
}

/** The log2 slot of a value: floor(log2(v)), 0 for 0 and 1 (as log2l() in the BPF programs). */
export function log2Slot(value: number | bigint): number {
  let v = typeof value === "bigint" ? value : BigInt(Math.floor(Math.max(0, value)));
  let slot = 0;
  while (v > 1n) {
    v >>= 1n;
    slot++;
  }
  return slot;
}

/** Reads `count` u32 (or u64 when `bytes` is 8) slots from a map value (little-endian). */
export function readSlots(value: Uint8Array, count: number, bytes: 4 | 8 = 4, offset = 0): number[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * bytes;
    out.push(bytes === 4 ? view.getUint32(at, true) : Number(view.getBigUint64(at, true)));
  }
  return out;
}
