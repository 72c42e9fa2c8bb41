/**
 * Maps of sockets: BPF_MAP_TYPE_XSKMAP (AF_XDP sockets, bpf_redirect_map's target), SOCKMAP and
 * SOCKHASH (bpf_sk_redirect_map / sk_msg). The VM has no sockets: their slots hold names the host
 * gives with `setSocket(key, name)`, so that redirects to them can be seen; updates with bytes (a
 * socket fd) are refused with -EOPNOTSUPP, and host lookups too (the kernel shows no value of an
 * xskmap; a sockmap's is a socket cookie the VM does not have).
 */
import { MapType } from "../../object/types.js";
import type { Memory } from "../memory.js";
import { Errno, UpdateFlags } from "./constants.js";
import { MapError, type VmMapOptions, type VmMapSpec } from "./map.js";
import { SlotMap, type RedirectEntry, type RedirectMap } from "./slot-map.js";

export class SocketMap extends SlotMap<string> implements RedirectMap {
  readonly redirectFlags = 0;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions) {
    super(spec, memory, options, spec.type === MapType.SOCKHASH, spec.type === MapType.XSKMAP ? [4] : [4, 8]);
  }

  protected parse(op: string): string | undefined {
    throw new MapError(
      this.name,
      op,
      Errno.EOPNOTSUPP,
      `${this.typeName} slots hold sockets and the VM has no socket fds: use setSocket(key, name)`,
    );
  }
  protected bytesOf(): Uint8Array {
    return new Uint8Array(this.valueSize);
  }

  /** Puts the socket called `name` in slot `key` (undefined empties it). */
  setSocket(key: Uint8Array | number, name: string | undefined, flags: number = UpdateFlags.ANY): void {
    this.checkWritable("update");
    this.checkHostFlags("update", flags);
    this.put("update", this.keyOf("update", key), name, flags);
  }

  override lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey("lookup", key);
    throw new MapError(this.name, "lookup", Errno.EOPNOTSUPP, `${this.typeName} values are sockets`);
  }
  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}

  redirectTarget(index: number): RedirectEntry | undefined {
    if (this.type !== MapType.XSKMAP) return undefined;
    const socket = this.entry(index);
    return socket === undefined ? undefined : { socket };
  }
}
