/**
 * BPF_MAP_TYPE_PROG_ARRAY: slots holding programs, the targets of bpf_tail_call. In the VM a
 * slot holds an Interpreter (set by the host with `setProgram`, or by the runtime from the
 * object's `.values` initialisers). Programs cannot look up or update it; bpf_tail_call reads it.
 */
import type { Interpreter } from "../interpreter.js";
import type { Memory } from "../memory.js";
import { Errno } from "./constants.js";
import { BaseMap, MapError, readU32, u32Key, type VmMapOptions, type VmMapSpec } from "./map.js";

export class ProgArrayMap extends BaseMap {
  private readonly programs: (Interpreter | undefined)[];

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options);
    if (spec.keySize !== 4 || spec.valueSize !== 4 || spec.maxEntries === 0)
      this.createError(
        Errno.EINVAL,
        "prog arrays need key size 4, value size 4 (a program fd) and max entries > 0",
      );
    this.programs = new Array<Interpreter | undefined>(spec.maxEntries).fill(undefined);
  }

  /** Put `program` in slot `index` (undefined empties it). */
  setProgram(index: number, program: Interpreter | undefined): void {
    this.checkWritable("update");
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries)
      throw new MapError(
        this.name,
        "update",
        Errno.E2BIG,
        `index ${index} >= max entries ${this.maxEntries}`,
      );
    this.programs[index] = program;
  }
  /** The program in slot `index`, if any (what bpf_tail_call jumps to). */
  program(index: number): Interpreter | undefined {
    return index >= 0 && index < this.maxEntries ? this.programs[index] : undefined;
  }

  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey("delete", key);
    const i = readU32(key);
    if (i >= this.maxEntries) throw new MapError(this.name, "delete", Errno.E2BIG);
    const had = this.programs[i] !== undefined;
    this.programs[i] = undefined;
    return had;
  }
  override update(key: Uint8Array, value: Uint8Array): void {
    void [key, value];
    throw new MapError(
      this.name,
      "update",
      Errno.EINVAL,
      "the VM's prog arrays hold programs: use setProgram(index, interpreter)",
    );
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    void key;
    throw new MapError(
      this.name,
      "lookup",
      Errno.EINVAL,
      "the VM's prog arrays hold programs: use program(index)",
    );
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const from = key === undefined ? 0 : readU32(key) + 1;
    if (key !== undefined && readU32(key) >= this.maxEntries) return u32Key(0);
    return from < this.maxEntries ? u32Key(from) : undefined;
  }
  /** Indexes of the slots holding a program. */
  override *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) if (this.programs[i]) yield u32Key(i);
  }
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
