import { test } from "node:test";
import assert from "node:assert/strict";
import { TsbpfError } from "../../src/errors.js";
import { decode, encode } from "../../src/isa/codec.js";
import type { Instruction } from "../../src/isa/instruction.js";
import { LDDW } from "../../src/isa/opcodes.js";
import { OPCODE_RULES } from "../../src/isa/validity.js";
import { HelperRegistry, Interpreter, Memory } from "../../src/vm/index.js";

/**
 * Random and mutated programs through decode() and the interpreter with a small budget: the only
 * errors allowed are TsbpfError subclasses (typed load errors and VmFaults); nothing may hang.
 */

let seed = 0x9e3779b9;
/** xorshift32, deterministic across runs. */
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const below = (n: number) => rand() % n;
const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)]!;

const VALID_OPCODES = OPCODE_RULES.flatMap((r, code) => (r ? [code] : []));
const INTERESTING = [
  0, 1, -1, 2, 7, 8, 16, 31, 32, 33, 63, 64, 512, -512, 0x7fffffff, -0x80000000, 0xffff, -8,
];

function field(rule: "zero" | "reg" | "any" | readonly number[], bits: number): number {
  if (rule === "zero") return 0;
  if (rule === "reg") return below(11);
  if (rule !== "any") return pick(rule);
  switch (below(4)) {
    case 0:
      return bits === 16 ? (pick(INTERESTING) << 16) >> 16 : pick(INTERESTING);
    case 1:
      return below(17) - 8;
    default:
      return bits === 16 ? (rand() & 0xffff) - 0x8000 : rand() | 0;
  }
}

/** A random instruction that passes the encoding rules (checkInstruction) most of the time. */
function randomInstruction(): Instruction {
  const code = pick(VALID_OPCODES);
  const rule = OPCODE_RULES[code]!;
  const insn: Instruction = {
    code,
    dst: field(rule.dst, 4),
    src: field(rule.src, 4),
    off: code === 0x85 ? 0 : field(rule.off, 16),
    imm: code === 0x85 ? below(8) : field(rule.imm, 32),
  };
  if (code !== LDDW) return insn;
  return { ...insn, imm2: [0, 2, 6].includes(insn.src) ? field("any", 32) : 0 };
}

/** Random programs whose jumps mostly land on instructions, so that many of them load and run. */
function randomProgram(): Instruction[] {
  const n = 1 + below(24);
  let out: Instruction[] = [];
  for (let i = 0; i < n; i++) out.push(randomInstruction());
  if (below(2)) out.push({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  const starts: number[] = [];
  let slot = 0;
  for (const insn of out) {
    starts.push(slot);
    slot += insn.code === LDDW ? 2 : 1;
  }
  out = out.map((insn, i) => {
    const cls = insn.code & 0x07;
    if ((cls !== 5 && cls !== 6) || below(10) === 0) return insn;
    const delta = pick(starts) - starts[i]! - 1;
    if (insn.code === 0x06 || (insn.code === 0x85 && insn.src === 1)) return { ...insn, imm: delta };
    if (insn.code === 0x85 || insn.code === 0x8d || insn.code === 0x95) return insn;
    return { ...insn, off: delta };
  });
  return out;
}

let self: Interpreter | undefined;
const helpers = new HelperRegistry()
  .register(1, "add", (c) => c.arg(1) + c.arg(2))
  .register(2, "peek", (c) => c.memory.view(c.arg(1), c.argU32(2) & 0xff)[0] ?? 0)
  .register(3, "exit", (c) => c.exit(c.arg(1)))
  .register(4, "tail_call", (c) => (self && c.tailCall(self) ? 0 : -1))
  .register(5, "callback", (c) => c.callFunction(c.arg(1), c.arg(2)))
  .register(6, "throws", () => {
    throw new Error("helper bug");
  });

function execute(program: Instruction[], stats: Record<string, number>): void {
  let interp: Interpreter;
  try {
    interp = new Interpreter(program, { helpers, budget: 200, mayGotoBudget: 20 });
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    stats.loadError = (stats.loadError ?? 0) + 1;
    return;
  }
  self = interp;
  const memory = new Memory();
  const ctx = memory.addRegion({ kind: "context", name: "ctx", length: 64 });
  const packet = memory.addRegion({ kind: "packet", name: "packet", length: 40 });
  const ro = memory.addRegion({ kind: "read-only-data", name: "ro", length: 16 });
  try {
    interp.run({ memory, packet, registers: { r1: ctx.base, r2: packet.base, r3: ro.base, r4: 8n } });
    stats.ran = (stats.ran ?? 0) + 1;
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    stats.fault = (stats.fault ?? 0) + 1;
  }
}

test("fuzz: 100,000 random, mutated and raw programs raise only typed errors", () => {
  const stats: Record<string, number> = {};
  for (let i = 0; i < 100_000; i++) {
    let program: Instruction[] | undefined;
    const kind = i % 4;
    try {
      if (kind === 0) {
        program = randomProgram();
      } else if (kind === 1 || kind === 2) {
        // mutate the bytes of a random program, then decode with or without validation
        const bytes = encode(randomProgram());
        for (let m = 1 + below(3); m > 0; m--) bytes[below(bytes.length)] = rand() & 0xff;
        program = decode(bytes, { validate: kind === 1 });
      } else {
        const bytes = new Uint8Array(8 * (1 + below(8)) + (below(8) === 0 ? below(8) : 0));
        for (let b = 0; b < bytes.length; b++) bytes[b] = rand() & 0xff;
        program = decode(bytes, { validate: below(2) === 0 });
      }
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      stats.decodeError = (stats.decodeError ?? 0) + 1;
      continue;
    }
    try {
      execute(program, stats);
    } catch (e) {
      assert.fail(`untyped error ${String(e)} from program ${JSON.stringify(program)}`);
    }
  }
  // the generator must actually reach the interpreter, not only the error paths
  assert.ok((stats.ran ?? 0) > 3_000, JSON.stringify(stats));
  assert.ok((stats.fault ?? 0) > 10_000, JSON.stringify(stats));
});
