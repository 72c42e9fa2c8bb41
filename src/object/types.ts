/**
 * The canonical numbering of program, attach and map types (enum bpf_prog_type,
 * enum bpf_attach_type and enum bpf_map_type of include/uapi/linux/bpf.h, Linux 6.18), with
 * libbpf's lowercase names ("socket_filter", "cgroup_inet_ingress", "percpu_array").
 * The object model owns them because it is below both backends: the kernel backend and the VM
 * import them from here.
 */

/** enum bpf_prog_type. */
export enum ProgramType {
  UNSPEC = 0,
  SOCKET_FILTER = 1,
  KPROBE = 2,
  SCHED_CLS = 3,
  SCHED_ACT = 4,
  TRACEPOINT = 5,
  XDP = 6,
  PERF_EVENT = 7,
  CGROUP_SKB = 8,
  CGROUP_SOCK = 9,
  LWT_IN = 10,
  LWT_OUT = 11,
  LWT_XMIT = 12,
  SOCK_OPS = 13,
  SK_SKB = 14,
  CGROUP_DEVICE = 15,
  SK_MSG = 16,
  RAW_TRACEPOINT = 17,
  CGROUP_SOCK_ADDR = 18,
  LWT_SEG6LOCAL = 19,
  LIRC_MODE2 = 20,
  SK_REUSEPORT = 21,
  FLOW_DISSECTOR = 22,
  CGROUP_SYSCTL = 23,
  RAW_TRACEPOINT_WRITABLE = 24,
  CGROUP_SOCKOPT = 25,
  TRACING = 26,
  STRUCT_OPS = 27,
  EXT = 28,
  LSM = 29,
  SK_LOOKUP = 30,
  SYSCALL = 31,
  NETFILTER = 32,
}

/** enum bpf_attach_type. */
export enum AttachType {
  CGROUP_INET_INGRESS = 0,
  CGROUP_INET_EGRESS = 1,
  CGROUP_INET_SOCK_CREATE = 2,
  CGROUP_SOCK_OPS = 3,
  SK_SKB_STREAM_PARSER = 4,
  SK_SKB_STREAM_VERDICT = 5,
  CGROUP_DEVICE = 6,
  SK_MSG_VERDICT = 7,
  CGROUP_INET4_BIND = 8,
  CGROUP_INET6_BIND = 9,
  CGROUP_INET4_CONNECT = 10,
  CGROUP_INET6_CONNECT = 11,
  CGROUP_INET4_POST_BIND = 12,
  CGROUP_INET6_POST_BIND = 13,
  CGROUP_UDP4_SENDMSG = 14,
  CGROUP_UDP6_SENDMSG = 15,
  LIRC_MODE2 = 16,
  FLOW_DISSECTOR = 17,
  CGROUP_SYSCTL = 18,
  CGROUP_UDP4_RECVMSG = 19,
  CGROUP_UDP6_RECVMSG = 20,
  CGROUP_GETSOCKOPT = 21,
  CGROUP_SETSOCKOPT = 22,
  TRACE_RAW_TP = 23,
  TRACE_FENTRY = 24,
  TRACE_FEXIT = 25,
  MODIFY_RETURN = 26,
  LSM_MAC = 27,
  TRACE_ITER = 28,
  CGROUP_INET4_GETPEERNAME = 29,
  CGROUP_INET6_GETPEERNAME = 30,
  CGROUP_INET4_GETSOCKNAME = 31,
  CGROUP_INET6_GETSOCKNAME = 32,
  XDP_DEVMAP = 33,
  CGROUP_INET_SOCK_RELEASE = 34,
  XDP_CPUMAP = 35,
  SK_LOOKUP = 36,
  XDP = 37,
  SK_SKB_VERDICT = 38,
  SK_REUSEPORT_SELECT = 39,
  SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
  PERF_EVENT = 41,
  TRACE_KPROBE_MULTI = 42,
  LSM_CGROUP = 43,
  STRUCT_OPS = 44,
  NETFILTER = 45,
  TCX_INGRESS = 46,
  TCX_EGRESS = 47,
  TRACE_UPROBE_MULTI = 48,
  CGROUP_UNIX_CONNECT = 49,
  CGROUP_UNIX_SENDMSG = 50,
  CGROUP_UNIX_RECVMSG = 51,
  CGROUP_UNIX_GETPEERNAME = 52,
  CGROUP_UNIX_GETSOCKNAME = 53,
  NETKIT_PRIMARY = 54,
  NETKIT_PEER = 55,
  TRACE_KPROBE_SESSION = 56,
  TRACE_UPROBE_SESSION = 57,
}

/** enum bpf_map_type. */
export enum MapType {
  UNSPEC = 0,
  HASH = 1,
  ARRAY = 2,
  PROG_ARRAY = 3,
  PERF_EVENT_ARRAY = 4,
  PERCPU_HASH = 5,
  PERCPU_ARRAY = 6,
  STACK_TRACE = 7,
  CGROUP_ARRAY = 8,
  LRU_HASH = 9,
  LRU_PERCPU_HASH = 10,
  LPM_TRIE = 11,
  ARRAY_OF_MAPS = 12,
  HASH_OF_MAPS = 13,
  DEVMAP = 14,
  SOCKMAP = 15,
  CPUMAP = 16,
  XSKMAP = 17,
  SOCKHASH = 18,
  CGROUP_STORAGE = 19,
  REUSEPORT_SOCKARRAY = 20,
  PERCPU_CGROUP_STORAGE = 21,
  QUEUE = 22,
  STACK = 23,
  SK_STORAGE = 24,
  DEVMAP_HASH = 25,
  STRUCT_OPS = 26,
  RINGBUF = 27,
  INODE_STORAGE = 28,
  TASK_STORAGE = 29,
  BLOOM_FILTER = 30,
  USER_RINGBUF = 31,
  CGRP_STORAGE = 32,
  ARENA = 33,
}

/** Flags of BPF_MAP_UPDATE_ELEM / bpf_map_update_elem (and lookup with BPF_F_LOCK), for both backends. */
export enum UpdateFlags {
  /** create a new element or update an existing one */
  ANY = 0,
  /** create a new element only if it did not exist */
  NOEXIST = 1,
  /** update an existing element (bpf_map_push_elem on a full queue/stack: overwrite the oldest) */
  EXIST = 2,
  /** spin-locked update of a value holding a bpf_spin_lock (the VM, without spin locks, refuses it) */
  F_LOCK = 4,
}

/** map_flags of BPF_MAP_CREATE (BPF_F_*), for both backends. */
export enum MapFlags {
  NO_PREALLOC = 1 << 0,
  NO_COMMON_LRU = 1 << 1,
  NUMA_NODE = 1 << 2,
  RDONLY = 1 << 3,
  WRONLY = 1 << 4,
  STACK_BUILD_ID = 1 << 5,
  ZERO_SEED = 1 << 6,
  RDONLY_PROG = 1 << 7,
  WRONLY_PROG = 1 << 8,
  CLONE = 1 << 9,
  MMAPABLE = 1 << 10,
  PRESERVE_ELEMS = 1 << 11,
  INNER_MAP = 1 << 12,
  LINK = 1 << 13,
  PATH_FD = 1 << 14,
  VTYPE_BTF_OBJ_FD = 1 << 15,
  TOKEN_FD = 1 << 16,
  SEGV_ON_FAULT = 1 << 17,
  NO_USER_CONV = 1 << 18,
}

type NumericEnum = Record<string, string | number>;

function nameOf(e: NumericEnum, value: number): string {
  const key = e[value];
  return typeof key === "string" ? key.toLowerCase() : `unknown(${value})`;
}

function valueOf(e: NumericEnum, name: string): number | undefined {
  const value = e[name.toUpperCase().replace(/-/g, "_")];
  return typeof value === "number" ? value : undefined;
}

/** libbpf's name of a program type: "socket_filter", "xdp"; "unknown(N)" when not known. */
export const programTypeName = (type: number): string => nameOf(ProgramType, type);
/** libbpf's name of an attach type: "cgroup_inet_ingress", "trace_fentry"… */
export const attachTypeName = (type: number): string => nameOf(AttachType, type);
/** libbpf's name of a map type: "hash", "percpu_array"… */
export const mapTypeName = (type: number): string => nameOf(MapType, type);

/** A program type from its libbpf name ("kprobe") or number; undefined when unknown. */
export function programTypeFrom(name: string | number): ProgramType | undefined {
  if (typeof name === "number") return ProgramType[name] === undefined ? undefined : name;
  return valueOf(ProgramType, name);
}
/** An attach type from its libbpf name or number; undefined when unknown. */
export function attachTypeFrom(name: string | number): AttachType | undefined {
  if (typeof name === "number") return AttachType[name] === undefined ? undefined : name;
  return valueOf(AttachType, name);
}
/** A map type from its libbpf name or number; undefined when unknown. */
export function mapTypeFrom(name: string | number): MapType | undefined {
  if (typeof name === "number") return MapType[name] === undefined ? undefined : name;
  return valueOf(MapType, name);
}
