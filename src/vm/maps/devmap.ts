/**
 * BPF_MAP_TYPE_DEVMAP and DEVMAP_HASH (kernel/bpf/devmap.c): net devices that bpf_redirect_map
 * sends XDP frames to. A value is the device's ifindex (4 bytes) or struct bpf_devmap_val
 * { u32 ifindex; union { int fd; u32 id; } bpf_prog; } (8 bytes). In a devmap, ifindex 0 empties
 * the slot; a devmap_hash refuses it. The VM has no net devices: any other ifindex is taken as
 * is (the kernel refuses one that does not exist with -EINVAL), and a program to run on the
 * device (bpf_prog.fd > 0) is refused with -EOPNOTSUPP; lookups show bpf_prog.id 0.
 */
import type { Memory } from "../memory.js";
import { Errno } from "./constants.js";
import { MapError, type VmMapOptions, type VmMapSpec } from "./map.js";
import { SlotMap, type RedirectEntry, type RedirectMap } from "./slot-map.js";

/** bpf_redirect_map flags of device maps: BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS. */
export const DEVMAP_REDIRECT_FLAGS = (1 << 3) | (1 << 4);

export class DevMap extends SlotMap<number> implements RedirectMap {
  readonly redirectFlags = DEVMAP_REDIRECT_FLAGS;

  constructor(spec: VmMapSpec, memory: Memory, options: VmMapOptions, hashed: boolean) {
    super(spec, memory, options, hashed, [4, 8]);
  }

  protected parse(op: string, _key: Uint8Array, value: Uint8Array): number | undefined {
    const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const ifindex = v.getUint32(0, true);
    const progFd = value.length >= 8 ? v.getInt32(4, true) : -1;
    if (ifindex === 0) {
      if (this.hashed || progFd > 0)
        throw new MapError(this.name, op, Errno.EINVAL, "ifindex 0 names no device");
      return undefined;
    }
    if (progFd > 0)
      throw new MapError(
        this.name,
        op,
        Errno.EOPNOTSUPP,
        "devmap programs (bpf_prog.fd) are not run by the VM",
      );
    return ifindex;
  }
  protected bytesOf(ifindex: number): Uint8Array {
    const b = new Uint8Array(this.valueSize);
    new DataView(b.buffer).setUint32(0, ifindex, true);
    return b;
  }

  /** Puts device `ifindex` in slot `key` (an index, or a key of a devmap_hash); 0 empties a devmap slot. */
  setDevice(key: Uint8Array | number, ifindex: number, flags = 0): void {
    const k = this.keyOf("update", key);
    this.update(k, this.bytesOf(ifindex >>> 0), flags);
  }

  redirectTarget(index: number): RedirectEntry | undefined {
    const ifindex = this.entry(index);
    return ifindex === undefined ? undefined : { ifindex };
  }
}
