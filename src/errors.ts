/**
 * The one error hierarchy of tsbpf. Every failure that reaches a user is one of these,
 * with a one-line message; causes are chained with ES2022 `cause`.
 */
export class TsbpfError extends Error {
  override name = "TsbpfError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Malformed input bytes (bytecode, ELF, BTF, pcap…): names the file and the offset. */
export class FormatError extends TsbpfError {
  override name = "FormatError";
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly offset: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `${file !== undefined ? `${file}: ` : ""}${offset !== undefined ? `offset ${offset}: ` : ""}${message}`,
      options,
    );
  }
}

/** Bad text input (assembly, options): names the file and the line. */
export class ParseError extends TsbpfError {
  override name = "ParseError";
  constructor(
    readonly reason: string,
    readonly file: string | undefined,
    readonly line: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${file ?? "<input>"}${line !== undefined ? `:${line}` : ""}: ${reason}`, options);
  }
}

/** The running kernel (or this runtime) lacks something: names the feature. */
export class NotSupportedError extends TsbpfError {
  override name = "NotSupportedError";
  constructor(
    readonly feature: string,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`${feature} not supported${detail ? `: ${detail}` : ""}`, options);
  }
}
