import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./command.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * node:util parseArgs with tsbpf's conventions: unknown options and missing values become a
 * UsageError (exit code 2, one line), positionals are allowed.
 */
export type ParsedCommandArgs<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

export function parseCommandArgs<T extends Options>(args: string[], options: T): ParsedCommandArgs<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      e instanceof Error ? e.message.split("\n")[0]!.replace(/^TypeError \[\w+\]: /, "") : String(e),
    );
  }
}

/** Parse a decimal or 0x-hex non-negative integer option. */
export function integerOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** Parse hex bytes ("aa bb", "aabb", "0xaabb"). */
export function hexBytes(name: string, text: string): Uint8Array {
  const clean = text.replace(/^0x/i, "").replace(/[\s,:]+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean))
    throw new UsageError(
      `${name} must be hex bytes (got '${text.length > 40 ? text.slice(0, 40) + "…" : text}')`,
    );
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}
