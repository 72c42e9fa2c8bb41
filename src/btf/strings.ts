import { isAscii } from "node:buffer";
import { FormatError } from "../errors.js";

/**
 * The string section of a BTF blob: NUL-terminated strings addressed by byte offset. Split BTF
 * continues its base's table: offsets below `base.length` resolve in the base.
 */
export class StringTable {
  /** The whole section as one JS string when it is pure ASCII (then byte offset = char index). */
  private readonly ascii: string | undefined;
  private readonly cache = new Map<number, string>();

  constructor(
    private readonly bytes: Uint8Array,
    readonly base: StringTable | undefined,
    private readonly file: string | undefined,
    /** Offset of the section in the file, for error messages. */
    private readonly fileOffset: number,
  ) {
    this.ascii = isAscii(bytes)
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1")
      : undefined;
  }

  /** Number of bytes, including the base's. */
  get length(): number {
    return (this.base?.length ?? 0) + this.bytes.length;
  }

  /** The bytes holding the string at `offset` and its index in them (for hashing without decoding). */
  locate(offset: number): { bytes: Uint8Array; at: number } | undefined {
    const baseLen = this.base?.length ?? 0;
    if (offset < baseLen) return this.base!.locate(offset);
    const local = offset - baseLen;
    return local < this.bytes.length ? { bytes: this.bytes, at: local } : undefined;
  }

  /** The string at `offset`; throws FormatError if the offset is outside the table. */
  get(offset: number): string {
    if (offset === 0) return "";
    const baseLen = this.base?.length ?? 0;
    if (offset < baseLen) return this.base!.get(offset);
    const local = offset - baseLen;
    if (local >= this.bytes.length) {
      throw new FormatError(
        `string offset ${offset} out of range (string section is ${this.length} bytes)`,
        this.file,
        this.fileOffset,
      );
    }
    if (this.ascii !== undefined) {
      // the section is checked to end with NUL, so indexOf always finds one
      return this.ascii.slice(local, this.ascii.indexOf("\0", local));
    }
    let s = this.cache.get(local);
    if (s === undefined) {
      const end = this.bytes.indexOf(0, local);
      s = new TextDecoder().decode(this.bytes.subarray(local, end));
      this.cache.set(local, s);
    }
    return s;
  }
}
