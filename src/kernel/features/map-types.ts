import { describeErrno } from "../errors.js";
import { pageSize } from "../perf/event.js";
import {
  BTF_LOAD_ATTR,
  BpfCmd,
  MAP_CREATE_ATTR,
  MapFlags,
  MapType,
  bpfRaw,
  btfLoadRaw,
  closeFd,
  mapTypeName,
  type Encodable,
} from "../sys/index.js";
import { memoised, type FeatureResult } from "./probe.js";

type MapAttr = Encodable<typeof MAP_CREATE_ATTR>;

/** A BTF blob with one type: [1] INT "int" size 4, signed. */
function intBtf(): Uint8Array {
  const strings = Buffer.from("\0int\0");
  const types = new Uint8Array(16);
  const v = new DataView(types.buffer);
  v.setUint32(0, 1, true); // name "int"
  v.setUint32(4, 1 << 24, true); // kind INT
  v.setUint32(8, 4, true); // size
  v.setUint32(12, (1 << 24) | 32, true); // signed, 32 bits
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint16(0, 0xeb9f, true);
  h.setUint8(2, 1);
  h.setUint32(4, 24, true);
  h.setUint32(8, 0, true);
  h.setUint32(12, types.byteLength, true);
  h.setUint32(16, types.byteLength, true);
  h.setUint32(20, strings.byteLength, true);
  return Buffer.concat([header, types, strings]);
}

/** Creates a map to see what the kernel says; closes it and any helper fds. */
function tryCreate(attr: MapAttr): { ok: boolean; errno: number } {
  const r = bpfRaw(BpfCmd.MAP_CREATE, MAP_CREATE_ATTR, attr);
  if (r.ret >= 0) {
    closeFd(r.ret);
    return { ok: true, errno: 0 };
  }
  return { ok: false, errno: -r.ret };
}

/** The attributes of a minimal map of each type (libbpf's probe_map_create). */
function mapAttr(type: MapType, cleanup: (() => void)[]): MapAttr {
  const base: MapAttr = { map_type: type, key_size: 4, value_size: 4, max_entries: 1 };
  switch (type) {
    case MapType.LPM_TRIE:
      return { ...base, key_size: 8, value_size: 8, map_flags: MapFlags.NO_PREALLOC };
    case MapType.STACK_TRACE:
      return { ...base, value_size: 8 };
    case MapType.QUEUE:
    case MapType.STACK:
    case MapType.BLOOM_FILTER:
      return { ...base, key_size: 0 };
    case MapType.RINGBUF:
    case MapType.USER_RINGBUF:
      return { ...base, key_size: 0, value_size: 0, max_entries: pageSize() };
    case MapType.ARENA:
      return { ...base, key_size: 0, value_size: 0, max_entries: 1, map_flags: MapFlags.MMAPABLE };
    case MapType.CGROUP_STORAGE:
    case MapType.PERCPU_CGROUP_STORAGE:
      return { ...base, key_size: 16, max_entries: 0 }; // struct bpf_cgroup_storage_key
    case MapType.SK_STORAGE:
    case MapType.INODE_STORAGE:
    case MapType.TASK_STORAGE:
    case MapType.CGRP_STORAGE: {
      const btf = intBtf();
      const r = btfLoadRaw({ btf, btf_size: btf.byteLength } as Encodable<typeof BTF_LOAD_ATTR>);
      if (r.ret < 0) return base;
      cleanup.push(() => closeFd(r.ret));
      return {
        ...base,
        max_entries: 0,
        map_flags: MapFlags.NO_PREALLOC,
        btf_fd: r.ret,
        btf_key_type_id: 1,
        btf_value_type_id: 1,
      };
    }
    case MapType.ARRAY_OF_MAPS:
    case MapType.HASH_OF_MAPS: {
      const inner = bpfRaw(BpfCmd.MAP_CREATE, MAP_CREATE_ATTR, {
        map_type: MapType.ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
      });
      if (inner.ret >= 0) cleanup.push(() => closeFd(inner.ret));
      return { ...base, inner_map_fd: Math.max(inner.ret, 0) };
    }
    case MapType.STRUCT_OPS:
      // BTF id 1 is no struct_ops type: a kernel that knows them says ENOTSUPP (as libbpf expects).
      return { ...base, btf_vmlinux_value_type_id: 1, value_type_btf_obj_fd: -1 };
    default:
      return base;
  }
}

/** Every map type the UAPI header names (UNSPEC excluded). */
export const MAP_TYPES: readonly MapType[] = Object.values(MapType).filter(
  (v): v is MapType => typeof v === "number" && v !== MapType.UNSPEC,
);

/** Whether the kernel can create a map of this type (a minimal one, like `bpftool feature probe`). */
export function probeMapType(type: MapType): FeatureResult {
  const name = mapTypeName(type);
  return memoised(`map_type ${name}`, () => {
    const cleanup: (() => void)[] = [];
    try {
      const r = tryCreate(mapAttr(type, cleanup));
      if (r.ok) return { supported: true, detail: `a minimal ${name} map can be created` };
      if (type === MapType.STRUCT_OPS && r.errno === 524)
        return {
          supported: true,
          detail: "the kernel knows struct_ops maps (ENOTSUPP for a dummy type, as expected)",
        };
      const [errno, text] = describeErrno(r.errno);
      return { supported: false, detail: `creating a minimal ${name} map fails with ${errno} (${text})` };
    } finally {
      for (const c of cleanup) c();
    }
  });
}
