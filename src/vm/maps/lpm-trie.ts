/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): keys are `struct bpf_lpm_trie_key_u8
 * { u32 prefixlen; u8 data[] }` (prefixlen in host order, data in network order, compared
 * most-significant bit first). Lookup (from programs and from the host alike) finds the element
 * with the longest prefix matching the first `prefixlen` bits of the key; update and delete work
 * on exact prefixes. Creation needs BPF_F_NO_PREALLOC, key_size 5..260, value_size 1..KMALLOC.
 * A full trie refuses new prefixes with -ENOSPC.
 *
 * get_next_key walks the trie in post-order like the kernel: more specific prefixes before the
 * prefixes containing them, the 0 side of a differing bit before the 1 side.
 */
import type { Memory, Region } from "../memory.js";
import { Errno, MapFlags, roundUp8, UpdateFlags } from "./constants.js";
import {
  BaseMap,
  checkUpdateFlags,
  keyId,
  MapError,
  readU32,
  type VmMapOptions,
  type VmMapSpec,
} from "./map.js";

/** LPM_DATA_SIZE_MAX: 256 bytes of data after the prefix length. */
const MAX_DATA = 256;
/** LPM_VAL_SIZE_MAX. */
const MAX_VALUE = (1 << 22) - 4 - 64;

interface Node {
  /** The key as given (prefixlen + data; bits after the prefix kept as the kernel keeps them). */
  readonly key: Uint8Array;
  readonly prefixlen: number;
  region: Region;
}

export class LpmTrieMap extends BaseMap {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  /** Nodes by normalized key (prefixlen + data masked to the prefix). */
  private readonly nodes = new Map<string, Node>();
  /** How many nodes have each prefix length (lookups only try the lengths present). */
  private readonly lengths = new Map<number, number>();

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options);
    if (spec.maxEntries === 0 || !(this.flags & MapFlags.NO_PREALLOC))
      this.createError(Errno.EINVAL, "LPM tries need max entries > 0 and BPF_F_NO_PREALLOC");
    if (spec.keySize <= 4 || spec.keySize > 4 + MAX_DATA)
      this.createError(Errno.EINVAL, `key size must be 5..${4 + MAX_DATA} (u32 prefixlen + data)`);
    if (spec.valueSize === 0 || spec.valueSize > MAX_VALUE)
      this.createError(Errno.EINVAL, `value size must be 1..${MAX_VALUE}`);
    this.dataSize = spec.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** prefixlen + the data masked to `prefixlen` bits, as a Map key. */
  private normalized(key: Uint8Array, prefixlen: number): string {
    const data = key.slice(4, 4 + this.dataSize);
    const full = prefixlen >>> 3;
    const rest = prefixlen & 7;
    if (full < data.length) {
      data[full] = rest ? data[full]! & (0xff << (8 - rest)) : 0;
      data.fill(0, full + 1);
    }
    return `${prefixlen}:${keyId(data)}`;
  }

  private find(key: Uint8Array): Node | undefined {
    const want = readU32(key);
    if (want > this.maxPrefixlen) return undefined;
    let best: Node | undefined;
    for (const [len] of this.lengths) {
      if (len > want || (best && len <= best.prefixlen)) continue;
      const n = this.nodes.get(this.normalized(key, len));
      if (n) best = n;
    }
    return best;
  }

  // ---- program face ----
  override lookupElem(key: Uint8Array): bigint {
    const n = this.find(key);
    return n ? n.region.base : 0n;
  }
  override updateElem(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (checkUpdateFlags(flags) < 0) return -Errno.EINVAL;
    const prefixlen = readU32(key);
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    const id = this.normalized(key, prefixlen);
    const old = this.nodes.get(id);
    if (old && flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (!old && flags === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (!old && this.nodes.size >= this.maxEntries) return -Errno.ENOSPC;
    const bytes = new Uint8Array(roundUp8(this.valueSize));
    bytes.set(value.subarray(0, this.valueSize));
    // Like the kernel, an update replaces the node (and its key bytes); the old value pointer dies.
    if (old) this.retireRegion(old.region);
    else this.lengths.set(prefixlen, (this.lengths.get(prefixlen) ?? 0) + 1);
    this.nodes.set(id, {
      key: key.slice(0, this.keySize),
      prefixlen,
      region: this.addOwnedRegion("value", bytes),
    });
    return 0;
  }
  override deleteElem(key: Uint8Array): number {
    const prefixlen = readU32(key);
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    const id = this.normalized(key, prefixlen);
    const n = this.nodes.get(id);
    if (!n) return -Errno.ENOENT;
    this.nodes.delete(id);
    const count = this.lengths.get(prefixlen)! - 1;
    if (count === 0) this.lengths.delete(prefixlen);
    else this.lengths.set(prefixlen, count);
    this.retireRegion(n.region);
    return 0;
  }

  // ---- host face ----
  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    return this.find(key)?.region.bytes.slice(0, this.valueSize);
  }
  override update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    this.checkKey("update", key);
    this.checkValue("update", value);
    const r = this.updateElem(key, value, flags);
    this.check(
      "update",
      r,
      r === -Errno.EINVAL ? `prefix length ${readU32(key)} > ${this.maxPrefixlen}` : undefined,
    );
  }
  override delete(key: Uint8Array): boolean {
    this.checkWritable("delete");
    this.checkKey("delete", key);
    const r = this.deleteElem(key);
    if (r === -Errno.EINVAL)
      throw new MapError(
        this.name,
        "delete",
        Errno.EINVAL,
        `prefix length ${readU32(key)} > ${this.maxPrefixlen}`,
      );
    return r === 0;
  }
  /** Nodes in the kernel's post-order. */
  private ordered(): Node[] {
    return [...this.nodes.values()].sort((x, y) => postOrder(x, y));
  }
  override nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const order = this.ordered();
    if (key === undefined) return order[0]?.key.slice();
    this.checkKey("get next key", key);
    const prefixlen = readU32(key);
    const id = prefixlen > this.maxPrefixlen ? undefined : this.normalized(key, prefixlen);
    const at = order.findIndex((n) => id !== undefined && this.normalized(n.key, n.prefixlen) === id);
    if (at < 0) return order[0]?.key.slice();
    return order[at + 1]?.key.slice();
  }
  override *keys(): IterableIterator<Uint8Array> {
    for (const n of this.ordered()) yield n.key.slice();
  }
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const n of this.ordered()) yield [n.key.slice(), n.region.bytes.slice(0, this.valueSize)];
  }
  override valueAddress(key: Uint8Array | number, offset = 0): bigint | undefined {
    if (typeof key === "number") return undefined;
    const n = this.nodes.get(this.normalized(key, readU32(key)));
    return n ? n.region.base + BigInt(offset) : undefined;
  }
}

const bit = (key: Uint8Array, i: number): number => (key[4 + (i >>> 3)]! >> (7 - (i & 7))) & 1;

/** Post-order of a binary trie: at the first differing bit 0 before 1; a prefix after its extensions. */
function postOrder(x: Node, y: Node): number {
  const common = Math.min(x.prefixlen, y.prefixlen);
  for (let i = 0; i < common; i++) {
    const d = bit(x.key, i) - bit(y.key, i);
    if (d !== 0) return d;
  }
  return y.prefixlen - x.prefixlen;
}
