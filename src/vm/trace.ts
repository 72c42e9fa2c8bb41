import type { Instruction } from "../isa/instruction.js";

/** A register an instruction changed. */
export interface RegisterChange {
  /** Register number, 0-10. */
  readonly register: number;
  /** Value before the instruction, unsigned. */
  readonly before: bigint;
  /** Value after the instruction, unsigned. */
  readonly after: bigint;
}

/** One executed instruction, as given to the `trace` option of `Interpreter.run`. */
export interface TraceEvent {
  /** Slot index of the instruction in its program. */
  readonly pc: number;
  /** The instruction (undefined only for traps past the end). */
  readonly instruction: Instruction | undefined;
  /** Call depth (0 = main program). */
  readonly depth: number;
  /** Name of the program (differs from the first after a tail call). */
  readonly program: string | undefined;
  /** Instructions executed so far, this one included. */
  readonly count: number;
  /** Registers whose value changed. */
  readonly changes: readonly RegisterChange[];
}

export type TraceFunction = (event: TraceEvent) => void;
