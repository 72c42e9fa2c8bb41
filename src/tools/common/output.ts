/**
 * Column output of the tools, and its --json twin: the same column table prints the header and
 * rows (printf-style widths, as BCC's tools) or one JSON object per line whose field names are
 * the lower-cased column names (`PCOMM` -> "pcomm", `TIME(s)` -> "time_s").
 */
import type { ToolIO } from "./tool.js";

/** A JSON-able cell value. */
export type CellValue = string | number | bigint | boolean | null | undefined | readonly CellValue[];

export interface Column<R> {
  /** Header text ("PID", "TIME(s)"). */
  readonly name: string;
  /** Minimum text width (a left-aligned last column is not padded). */
  readonly width?: number;
  /** Right-aligned like printf %6d (default left-aligned like %-6d). */
  readonly right?: boolean;
  /** JSON field name (default: jsonKey(name)). */
  readonly key?: string;
  /** The cell's value (what --json prints). */
  value(row: R): CellValue;
  /** The cell's text (default: the value as text, lists joined by spaces). */
  text?(row: R): string;
}

/** `TIME(s)` -> "time_s", `LAT(ms)` -> "lat_ms", `PCOMM` -> "pcomm". */
export function jsonKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

function cellText(v: CellValue): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map((x) => cellText(x as CellValue)).join(" ");
  return String(v);
}

/** JSON.stringify that writes bigints as numbers (or strings past 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "bigint"
      ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString()
      : v,
  );
}

/** Prints rows as aligned columns under a header, or as JSON lines. */
export class Table<R> {
  readonly #columns: readonly Column<R>[];
  readonly #keys: readonly string[];
  constructor(
    private readonly io: ToolIO,
    columns: readonly (Column<R> | false | undefined)[],
    private readonly json: boolean,
  ) {
    this.#columns = columns.filter((c): c is Column<R> => !!c);
    this.#keys = this.#columns.map((c) => c.key ?? jsonKey(c.name));
  }

  get columns(): readonly Column<R>[] {
    return this.#columns;
  }

  #line(cells: readonly string[]): string {
    const last = cells.length - 1;
    return cells
      .map((text, i) => {
        const c = this.#columns[i]!;
        if (!c.width) return text;
        // A left-aligned last column is not padded (no trailing blanks).
        return c.right ? text.padStart(c.width) : i === last ? text : text.padEnd(c.width);
      })
      .join(" ");
  }

  /** The header line (text mode only). */
  header(): void {
    if (!this.json) this.io.out(this.#line(this.#columns.map((c) => c.name)));
  }

  /** The text of one row (without printing it). */
  format(row: R): string {
    return this.#line(this.#columns.map((c) => (c.text ? c.text(row) : cellText(c.value(row)))));
  }

  /** The JSON object of one row. */
  object(row: R): Record<string, CellValue> {
    const o: Record<string, CellValue> = {};
    this.#columns.forEach((c, i) => (o[this.#keys[i]!] = c.value(row)));
    return o;
  }

  /** Prints one row. */
  row(row: R): void {
    this.io.out(this.json ? toJson(this.object(row)) : this.format(row));
  }
}
