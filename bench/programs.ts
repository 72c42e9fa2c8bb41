import type { Instruction } from "../src/isa/instruction.js";
import { splitImm64 } from "../src/isa/instruction.js";

/** Instruction literal helpers for benchmark programs (no dependency on the assembler). */
const I = (code: number, dst: number, src: number, off: number, imm: number): Instruction => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** The xorshift64 seed of ../shared/bench/xorshift.bpf.c. */
export const XORSHIFT_SEED = 0x9e3779b97f4a7c15n;

/**
 * The 11-instruction xorshift64 loop of ../shared/bench/README.md (9 ALU + counter add + jne),
 * `rounds` times, r0 = the final state.
 */
export function xorshiftProgram(rounds: number): Instruction[] {
  const { imm, imm2 } = splitImm64(XORSHIFT_SEED);
  return [
    { code: 0x18, dst: 0, src: 0, off: 0, imm, imm2 }, // lddw r0, seed   (slots 0-1)
    I(0xb7, 2, 0, 0, 0), // 2: mov r2, 0
    I(0xbf, 1, 0, 0, 0), // 3: mov r1, r0      <- loop
    I(0x67, 1, 0, 0, 13), // lsh r1, 13
    I(0xaf, 0, 1, 0, 0), // xor r0, r1
    I(0xbf, 1, 0, 0, 0), // mov r1, r0
    I(0x77, 1, 0, 0, 7), // rsh r1, 7
    I(0xaf, 0, 1, 0, 0), // xor r0, r1
    I(0xbf, 1, 0, 0, 0), // mov r1, r0
    I(0x67, 1, 0, 0, 17), // lsh r1, 17
    I(0xaf, 0, 1, 0, 0), // xor r0, r1
    I(0x07, 2, 0, 0, 1), // add r2, 1
    I(0x55, 2, 0, -11, rounds), // 13: jne r2, rounds, loop
    I(0x95, 0, 0, 0, 0), // exit
  ];
}

/** Reference result of xorshiftProgram, computed with BigInt. */
export function xorshiftExpected(rounds: number): bigint {
  const M = (1n << 64n) - 1n;
  let x = XORSHIFT_SEED;
  for (let i = 0; i < rounds; i++) {
    x ^= (x << 13n) & M;
    x ^= x >> 7n;
    x ^= (x << 17n) & M;
  }
  return x;
}

/**
 * bpf_conformance's prime.data (trial division), hand-assembled, with r1 = `n` instead of 67.
 * Returns r0 = 1 when n is prime.
 */
export function primeProgram(n: number): Instruction[] {
  return [
    I(0xb7, 1, 0, 0, n), // 0: mov r1, n
    I(0xb7, 0, 0, 0, 1), // 1: mov r0, 1
    I(0xb7, 2, 0, 0, 2), // 2: mov r2, 2
    I(0x25, 1, 0, 4, 2), // 3: jgt r1, 2, L3
    I(0x05, 0, 0, 10, 0), // 4: ja exit
    I(0x07, 2, 0, 0, 1), // 5: L2: add r2, 1
    I(0xb7, 0, 0, 0, 1), // 6: mov r0, 1
    I(0x3d, 2, 1, 7, 0), // 7: jge r2, r1, exit
    I(0xbf, 3, 1, 0, 0), // 8: L3: mov r3, r1
    I(0x3f, 3, 2, 0, 0), // 9: div r3, r2
    I(0x2f, 3, 2, 0, 0), // 10: mul r3, r2
    I(0xbf, 4, 1, 0, 0), // 11: mov r4, r1
    I(0x1f, 4, 3, 0, 0), // 12: sub r4, r3
    I(0xb7, 0, 0, 0, 0), // 13: mov r0, 0
    I(0x55, 4, 0, -10, 0), // 14: jne r4, 0, L2
    I(0x95, 0, 0, 0, 0), // 15: exit
  ];
}
