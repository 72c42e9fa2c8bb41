import { ParseError } from "../../errors.js";

/**
 * A test file of the BPF conformance suite (`*.data`): sections introduced by `-- name` lines.
 *
 *   -- asm      program text in the conformance dialect (see assembleConformance)
 *   -- raw      program bytes: one 64-bit little-endian slot per `0x...` token, or hex bytes
 *   -- mem      input memory as hex bytes
 *   -- result   expected r0 (decimal or 0x hex)
 *   -- error    expected error text
 *   -- c, -- no register offset   informational, ignored
 */
export interface ConformanceData {
  /**
   * The asm section, with every line outside it blanked so that line numbers reported by the
   * assembler are line numbers of the .data file. Undefined when the file has no asm section.
   */
  readonly asm?: string;
  /** Bytes of the raw section, when present. */
  readonly raw?: Uint8Array;
  /** Input memory (empty when there is no mem section). */
  readonly mem: Uint8Array;
  /** Expected return value, unsigned 64-bit. */
  readonly result?: bigint;
  /** Expected error text. */
  readonly error?: string;
}

const SECTIONS = new Set(["asm", "raw", "mem", "result", "error", "c", "no register offset"]);

function parseHexBytes(words: readonly string[], file: string | undefined, line: number): number[] {
  const bytes: number[] = [];
  for (const w of words) {
    if (/^0x[0-9a-f]{3,16}$/i.test(w)) {
      let v = BigInt(w);
      for (let i = 0; i < 8; i++, v >>= 8n) bytes.push(Number(v & 0xffn));
    } else if (/^(0x)?[0-9a-f]{1,2}$/i.test(w)) bytes.push(parseInt(w, 16));
    else throw new ParseError(`invalid byte '${w}' (expected hex bytes or 0x 64-bit slots)`, file, line);
  }
  return bytes;
}

/** Split a conformance `.data` file into its sections. Throws ParseError on an unknown section. */
export function parseConformanceData(text: string, file?: string): ConformanceData {
  const lines = text.split(/\r?\n/);
  const asm: string[] = lines.map(() => "");
  let section: string | undefined;
  let hasAsm = false;
  let raw: number[] | undefined;
  const mem: number[] = [];
  let result: bigint | undefined;
  let error: string | undefined;

  lines.forEach((text, i) => {
    const line = i + 1;
    const header = /^--\s*(.*?)\s*$/.exec(text);
    if (header) {
      section = header[1]!;
      if (!SECTIONS.has(section))
        throw new ParseError(
          `unknown section '-- ${section}' (expected asm, raw, mem, result, error, c or no register offset)`,
          file,
          line,
        );
      if (section === "asm") hasAsm = true;
      if (section === "raw") raw ??= [];
      return;
    }
    const words = text.replace(/#.*$/, "").trim().split(/\s+/).filter(Boolean);
    switch (section) {
      case "asm":
        asm[i] = text;
        break;
      case "raw":
        raw!.push(...parseHexBytes(words, file, line));
        break;
      case "mem":
        mem.push(...parseHexBytes(words, file, line));
        break;
      case "result":
        if (words.length === 0) break;
        if (words.length !== 1 || !/^(0x[0-9a-f]+|\d+)$/i.test(words[0]!))
          throw new ParseError(`invalid result '${text.trim()}'`, file, line);
        result = BigInt.asUintN(64, BigInt(words[0]!));
        break;
      case "error":
        if (text.trim()) error = error === undefined ? text.trim() : `${error}\n${text.trim()}`;
        break;
    }
  });
  return {
    ...(hasAsm ? { asm: asm.join("\n") } : {}),
    ...(raw ? { raw: Uint8Array.from(raw) } : {}),
    mem: Uint8Array.from(mem),
    ...(result !== undefined ? { result } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
