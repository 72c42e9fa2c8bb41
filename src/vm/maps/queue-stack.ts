/**
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO) (kernel/bpf/queue_stack_maps.c).
 * No keys (key_size 0). push with BPF_ANY fails with -E2BIG when full; with BPF_EXIST it drops
 * the oldest value to make room, for both kinds. pop/peek on an empty map give -ENOENT.
 * Values are copied in and out: programs never get a pointer into the map.
 */
import type { Memory } from "../memory.js";
import { Errno, MAX_VALUE_SIZE, UpdateFlags } from "./constants.js";
import { BaseMap, MapError, type VmMapOptions, type VmMapSpec } from "./map.js";

export class QueueStackMap extends BaseMap {
  /** Oldest first. */
  private readonly values: Uint8Array[] = [];

  constructor(
    spec: VmMapSpec,
    memory: Memory,
    options: VmMapOptions,
    readonly lifo: boolean,
  ) {
    super(spec, memory, options);
    if (spec.keySize !== 0) this.createError(Errno.EINVAL, `key size must be 0 (got ${spec.keySize})`);
    if (spec.valueSize === 0 || spec.maxEntries === 0)
      this.createError(Errno.EINVAL, "value size and max entries must be > 0");
    if (spec.valueSize > MAX_VALUE_SIZE)
      this.createError(Errno.E2BIG, `value size ${spec.valueSize} too large`);
  }

  get size(): number {
    return this.values.length;
  }

  override pushElem(value: Uint8Array, flags: number): number {
    if (flags !== UpdateFlags.ANY && flags !== UpdateFlags.EXIST) return -Errno.EINVAL;
    if (this.values.length >= this.maxEntries) {
      if (flags !== UpdateFlags.EXIST) return -Errno.E2BIG;
      this.values.shift();
    }
    this.values.push(value.slice(0, this.valueSize));
    return 0;
  }
  private next(remove: boolean): Uint8Array | undefined {
    if (this.values.length === 0) return undefined;
    if (!remove) return this.lifo ? this.values[this.values.length - 1] : this.values[0];
    return this.lifo ? this.values.pop() : this.values.shift();
  }
  override popElem(out: Uint8Array): number {
    const v = this.next(true);
    if (!v) return -Errno.ENOENT;
    out.set(v);
    return 0;
  }
  override peekElem(out: Uint8Array): number {
    const v = this.next(false);
    if (!v) return -Errno.ENOENT;
    out.set(v);
    return 0;
  }
  /** bpf_map_update_elem on a queue/stack is a push (with the key ignored). */
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number): number {
    void key;
    return this.pushElem(value, flags);
  }

  // ---- host face: BPF_MAP_UPDATE_ELEM = push, LOOKUP = peek, LOOKUP_AND_DELETE = pop ----
  override push(value: Uint8Array, flags = 0): void {
    this.checkWritable("push");
    this.checkValue("push", value);
    this.check("push", this.pushElem(value, flags));
  }
  override pop(): Uint8Array | undefined {
    this.checkWritable("pop");
    return this.next(true)?.slice();
  }
  override peek(): Uint8Array | undefined {
    return this.next(false)?.slice();
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkKey("update", key);
    this.push(value, flags);
  }
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    return this.peek();
  }
  override delete(key: Uint8Array): boolean {
    void key;
    throw new MapError(this.name, "delete", Errno.EINVAL, "queue and stack elements are removed by pop");
  }
  override nextKey(): Uint8Array | undefined {
    throw new MapError(this.name, "get next key", Errno.EINVAL, "queue and stack maps have no keys");
  }
  /** No keys: iteration is empty; see `values()` for the contents. */
  override *keys(): IterableIterator<Uint8Array> {}
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
  /** The values in pop order, without popping them. */
  *contents(): IterableIterator<Uint8Array> {
    const order = this.lifo ? [...this.values].reverse() : this.values;
    for (const v of order) yield v.slice();
  }
}
