import { objGetInfoByFd } from "./bpf.js";
import { linkTypeName, mapTypeName, programTypeName, attachTypeName } from "./constants.js";
import { BTF_INFO, LINK_INFO, MAP_INFO, PROG_INFO } from "./infos.js";
import { decodeStruct, encodeStruct, type Decoded, type Layout } from "./layout.js";
import { syscalls } from "./syscalls.js";

/**
 * BPF_OBJ_GET_INFO_BY_FD decoded into typed objects. Arrays (map ids, translated instructions,
 * names) need a second call with buffers sized from the counts the first call returns.
 */

/** Calls OBJ_GET_INFO_BY_FD with `layout`, pointer fields set to the given buffers. */
function getInfo<L extends Layout>(
  fd: number,
  layout: L,
  values: Record<string, number | Uint8Array> = {},
): Decoded<L> {
  const sys = syscalls();
  const plain: Record<string, number | bigint> = {};
  for (const [k, v] of Object.entries(values)) {
    plain[k] = v instanceof Uint8Array ? (v.byteLength ? sys.addressOf(v) : 0n) : v;
  }
  const info = encodeStruct(layout, plain, layout.sizeof);
  objGetInfoByFd(fd, info);
  return decodeStruct(layout, info);
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** struct bpf_prog_info, decoded. */
export interface ProgramInfo {
  readonly type: number;
  /** libbpf's name of the type ("xdp", "socket_filter"). */
  readonly typeName: string;
  readonly id: number;
  readonly name: string;
  /** The program's tag (hash of its instructions), 16 hex digits. */
  readonly tag: string;
  readonly jitedSize: number;
  readonly xlatedSize: number;
  /** Load time in ns since boot (CLOCK_BOOTTIME). */
  readonly loadTime: bigint;
  readonly createdByUid: number;
  readonly mapIds: readonly number[];
  readonly ifindex: number;
  readonly gplCompatible: boolean;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly btfId: number;
  readonly nrFuncInfo: number;
  readonly nrLineInfo: number;
  readonly nrJitedKsyms: number;
  /** Run statistics (non-zero while BPF_ENABLE_STATS / kernel.bpf_stats_enabled is on). */
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
  readonly recursionMisses: bigint;
  readonly verifiedInsns: number;
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
  /** The instructions as the kernel rewrote them (when requested). */
  readonly xlatedInsns?: Uint8Array;
  /** The JIT's machine code (when requested). */
  readonly jitedInsns?: Uint8Array;
  /** func_info records (when requested): where each function starts, its BTF FUNC. */
  readonly funcInfo?: readonly { readonly insnOff: number; readonly typeId: number }[];
  /** line_info records (when requested), offsets in instructions; names are offsets in the program's BTF strings. */
  readonly lineInfo?: readonly ProgramLineInfo[];
  /** Kernel addresses of the JITed functions, by subprogram index (when requested). */
  readonly jitedKsyms?: readonly bigint[];
}

/** One bpf_line_info of a loaded program. */
export interface ProgramLineInfo {
  /** Instruction index (of the xlated instructions). */
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly lineNumber: number;
  readonly column: number;
}

/** What getProgramInfo fetches besides the fixed fields. */
export interface ProgramInfoOptions {
  /** Fetch the translated instructions (xlatedInsns). */
  xlated?: boolean;
  /** Fetch the JITed machine code (jitedInsns). */
  jited?: boolean;
  /** Fetch func_info and line_info (funcInfo, lineInfo): BTF ids and source lines per instruction. */
  btfInfo?: boolean;
  /** Fetch the JITed functions' addresses (jitedKsyms: the main program, then each subprogram). */
  jitedKsyms?: boolean;
}

/** BPF_OBJ_GET_INFO_BY_FD of a program. */
export function getProgramInfo(fd: number, options: ProgramInfoOptions = {}): ProgramInfo {
  const first = getInfo(fd, PROG_INFO);
  const mapIds = new Uint8Array(first.nr_map_ids * 4);
  const xlated = options.xlated ? new Uint8Array(first.xlated_prog_len) : undefined;
  const jited = options.jited ? new Uint8Array(first.jited_prog_len) : undefined;
  const funcRecs = options.btfInfo
    ? new Uint8Array(first.nr_func_info * first.func_info_rec_size)
    : undefined;
  const lineRecs = options.btfInfo
    ? new Uint8Array(first.nr_line_info * first.line_info_rec_size)
    : undefined;
  const ksyms = options.jitedKsyms ? new Uint8Array(first.nr_jited_ksyms * 8) : undefined;
  let info = first;
  if (
    mapIds.byteLength ||
    xlated?.byteLength ||
    jited?.byteLength ||
    funcRecs?.byteLength ||
    lineRecs?.byteLength ||
    ksyms?.byteLength
  ) {
    info = getInfo(fd, PROG_INFO, {
      nr_map_ids: first.nr_map_ids,
      map_ids: mapIds,
      ...(xlated ? { xlated_prog_len: xlated.byteLength, xlated_prog_insns: xlated } : {}),
      ...(jited ? { jited_prog_len: jited.byteLength, jited_prog_insns: jited } : {}),
      ...(funcRecs?.byteLength
        ? {
            nr_func_info: first.nr_func_info,
            func_info_rec_size: first.func_info_rec_size,
            func_info: funcRecs,
          }
        : {}),
      ...(lineRecs?.byteLength
        ? {
            nr_line_info: first.nr_line_info,
            line_info_rec_size: first.line_info_rec_size,
            line_info: lineRecs,
          }
        : {}),
      ...(ksyms?.byteLength ? { nr_jited_ksyms: first.nr_jited_ksyms, jited_ksyms: ksyms } : {}),
    });
  }
  const ids = new DataView(mapIds.buffer);
  return {
    type: info.type,
    typeName: programTypeName(info.type),
    id: info.id,
    name: info.name,
    tag: hex(info.tag),
    jitedSize: first.jited_prog_len,
    xlatedSize: first.xlated_prog_len,
    loadTime: info.load_time,
    createdByUid: info.created_by_uid,
    mapIds: Array.from({ length: Math.min(first.nr_map_ids, info.nr_map_ids) }, (_, i) =>
      ids.getUint32(i * 4, true),
    ),
    ifindex: info.ifindex,
    gplCompatible: (info.gpl_compatible & 1) === 1,
    netnsDev: info.netns_dev,
    netnsIno: info.netns_ino,
    btfId: info.btf_id,
    nrFuncInfo: info.nr_func_info,
    nrLineInfo: info.nr_line_info,
    nrJitedKsyms: info.nr_jited_ksyms,
    runTimeNs: info.run_time_ns,
    runCount: info.run_cnt,
    recursionMisses: info.recursion_misses,
    verifiedInsns: info.verified_insns,
    attachBtfObjId: info.attach_btf_obj_id,
    attachBtfId: info.attach_btf_id,
    ...(xlated ? { xlatedInsns: xlated.subarray(0, Math.min(xlated.byteLength, info.xlated_prog_len)) } : {}),
    ...(jited ? { jitedInsns: jited.subarray(0, Math.min(jited.byteLength, info.jited_prog_len)) } : {}),
    ...(ksyms
      ? {
          jitedKsyms: records(ksyms, Math.min(first.nr_jited_ksyms, info.nr_jited_ksyms), 8, (v, o) =>
            v.getBigUint64(o, true),
          ),
        }
      : {}),
    ...(funcRecs
      ? {
          funcInfo: records(
            funcRecs,
            Math.min(first.nr_func_info, info.nr_func_info),
            first.func_info_rec_size,
            (v, o) => ({
              insnOff: v.getUint32(o, true),
              typeId: v.getUint32(o + 4, true),
            }),
          ),
        }
      : {}),
    ...(lineRecs
      ? {
          lineInfo: records(
            lineRecs,
            Math.min(first.nr_line_info, info.nr_line_info),
            first.line_info_rec_size,
            (v, o) => {
              const lineCol = v.getUint32(o + 12, true);
              return {
                insnOff: v.getUint32(o, true),
                fileNameOff: v.getUint32(o + 4, true),
                lineOff: v.getUint32(o + 8, true),
                lineNumber: lineCol >>> 10,
                column: lineCol & 0x3ff,
              };
            },
          ),
        }
      : {}),
  };
}

/** `count` records of `size` bytes (the kernel's record size, which may grow) decoded by `read`. */
function records<T>(
  bytes: Uint8Array,
  count: number,
  size: number,
  read: (v: DataView, offset: number) => T,
): T[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => read(v, i * size));
}

/** struct bpf_map_info, decoded. */
export interface MapInfo {
  readonly type: number;
  /** libbpf's name of the type ("hash", "percpu_array"). */
  readonly typeName: string;
  readonly id: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly ifindex: number;
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly btfVmlinuxValueTypeId: number;
  readonly btfVmlinuxId: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly mapExtra: bigint;
}

/** BPF_OBJ_GET_INFO_BY_FD of a map. */
export function getMapInfo(fd: number): MapInfo {
  const i = getInfo(fd, MAP_INFO);
  return {
    type: i.type,
    typeName: mapTypeName(i.type),
    id: i.id,
    name: i.name,
    keySize: i.key_size,
    valueSize: i.value_size,
    maxEntries: i.max_entries,
    flags: i.map_flags,
    ifindex: i.ifindex,
    btfId: i.btf_id,
    btfKeyTypeId: i.btf_key_type_id,
    btfValueTypeId: i.btf_value_type_id,
    btfVmlinuxValueTypeId: i.btf_vmlinux_value_type_id,
    btfVmlinuxId: i.btf_vmlinux_id,
    netnsDev: i.netns_dev,
    netnsIno: i.netns_ino,
    mapExtra: i.map_extra,
  };
}

/** struct bpf_btf_info, decoded. */
export interface BtfInfo {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  /** vmlinux or a module's BTF (not loaded by a user). */
  readonly kernelBtf: boolean;
  /** The raw BTF (when requested). */
  readonly data?: Uint8Array;
}

/** BPF_OBJ_GET_INFO_BY_FD of a BTF object; `withData` also fetches its bytes. */
export function getBtfInfo(fd: number, withData = false): BtfInfo {
  const first = getInfo(fd, BTF_INFO);
  const name = new Uint8Array(256);
  const data = withData ? new Uint8Array(first.btf_size) : undefined;
  const i = getInfo(fd, BTF_INFO, {
    name,
    name_len: name.byteLength,
    ...(data ? { btf: data, btf_size: data.byteLength } : {}),
  });
  const nul = name.indexOf(0);
  return {
    id: i.id,
    name: new TextDecoder().decode(name.subarray(0, nul < 0 ? name.length : nul)),
    size: first.btf_size,
    kernelBtf: i.kernel_btf !== 0,
    ...(data ? { data } : {}),
  };
}

/** struct bpf_link_info, decoded: the common head and the fields of the link's kind. */
export interface LinkInfo {
  readonly type: number;
  /** libbpf's name of the link type ("raw_tracepoint", "tcx"). */
  readonly typeName: string;
  readonly id: number;
  readonly progId: number;
  /** Kind-specific fields, named as in bpf.h without the kind prefix ("tp_name", "ifindex"). */
  readonly details: Readonly<Record<string, number | bigint | string>>;
}

/** Per link type: the union member holding its fields, and its name buffer (pointer, length). */
const LINK_KINDS: Readonly<Record<string, { member: string; name?: readonly [string, string] }>> = {
  raw_tracepoint: {
    member: "raw_tracepoint",
    name: ["raw_tracepoint.tp_name", "raw_tracepoint.tp_name_len"],
  },
  tracing: { member: "tracing" },
  cgroup: { member: "cgroup" },
  iter: { member: "iter", name: ["iter.target_name", "iter.target_name_len"] },
  netns: { member: "netns" },
  xdp: { member: "xdp" },
  struct_ops: { member: "struct_ops" },
  netfilter: { member: "netfilter" },
  kprobe_multi: { member: "kprobe_multi" },
  uprobe_multi: { member: "uprobe_multi" },
  perf_event: { member: "perf_event" },
  tcx: { member: "tcx" },
  netkit: { member: "netkit" },
  sockmap: { member: "sockmap" },
};

/**
 * A perf_event link's union member follows its perf event type (enum bpf_perf_event_type):
 * uprobe/uretprobe, kprobe/kretprobe, tracepoint or a plain perf event.
 */
const PERF_EVENT_KINDS: Readonly<
  Record<number, { member: string; kind: string; name?: readonly [string, string] }>
> = {
  1: {
    member: "perf_event.uprobe",
    kind: "uprobe",
    name: ["perf_event.uprobe.file_name", "perf_event.uprobe.name_len"],
  },
  2: {
    member: "perf_event.uprobe",
    kind: "uretprobe",
    name: ["perf_event.uprobe.file_name", "perf_event.uprobe.name_len"],
  },
  3: {
    member: "perf_event.kprobe",
    kind: "kprobe",
    name: ["perf_event.kprobe.func_name", "perf_event.kprobe.name_len"],
  },
  4: {
    member: "perf_event.kprobe",
    kind: "kretprobe",
    name: ["perf_event.kprobe.func_name", "perf_event.kprobe.name_len"],
  },
  5: {
    member: "perf_event.tracepoint",
    kind: "tracepoint",
    name: ["perf_event.tracepoint.tp_name", "perf_event.tracepoint.name_len"],
  },
  6: { member: "perf_event.event", kind: "event" },
};

/** BPF_OBJ_GET_INFO_BY_FD of a link. */
export function getLinkInfo(fd: number): LinkInfo {
  const first = getInfo(fd, LINK_INFO);
  const typeName = linkTypeName(first.type);
  const perf =
    typeName === "perf_event"
      ? PERF_EVENT_KINDS[Number((first as Record<string, unknown>)["perf_event.type"])]
      : undefined;
  const kind = perf ?? LINK_KINDS[typeName];
  const nameBuf = new Uint8Array(kind?.name ? 512 : 0);
  const info = kind?.name ? getInfo(fd, LINK_INFO, { [kind.name[0]]: nameBuf, [kind.name[1]]: 512 }) : first;
  const details: Record<string, number | bigint | string> = {};
  if (kind) {
    for (const [field, value] of Object.entries(info as Record<string, number | bigint | string>)) {
      if (!field.startsWith(`${kind.member}.`)) continue;
      const short = field.slice(kind.member.length + 1);
      // Pointers we did not fill are meaningless to callers.
      if (
        typeof value === "bigint" &&
        LINK_INFO.fields[field as keyof typeof LINK_INFO.fields].kind === "ptr"
      ) {
        continue;
      }
      details[short] = value;
    }
    if (kind.name) {
      const nul = nameBuf.indexOf(0);
      details[kind.name[0].slice(kind.member.length + 1)] = new TextDecoder().decode(
        nameBuf.subarray(0, nul < 0 ? nameBuf.length : nul),
      );
    }
    if (typeof details.attach_type === "number")
      details.attach_type_name = attachTypeName(details.attach_type);
    if (perf) details.event_kind = perf.kind;
  }
  return { type: first.type, typeName, id: first.id, progId: first.prog_id, details };
}
