/**
 * Constants of the bpf(2) ABI, from the enums of include/uapi/linux/bpf.h (Linux 6.18).
 * Member names are the UAPI names without their prefix; the lowercase of a member name is
 * libbpf's and bpftool's name for it ("socket_filter", "percpu_array", "cgroup_inet_ingress").
 * Program, map and attach types and map flags are the object model's enums (one definition for both backends).
 */
import { AttachType, MapType, ProgramType } from "../../object/types.js";

export {
  AttachType,
  MapFlags,
  MapType,
  ProgramType,
  UpdateFlags,
  attachTypeName,
  mapTypeName,
  programTypeName,
} from "../../object/types.js";

/** enum bpf_cmd: the bpf(2) commands. */
export enum BpfCmd {
  MAP_CREATE = 0,
  MAP_LOOKUP_ELEM = 1,
  MAP_UPDATE_ELEM = 2,
  MAP_DELETE_ELEM = 3,
  MAP_GET_NEXT_KEY = 4,
  PROG_LOAD = 5,
  OBJ_PIN = 6,
  OBJ_GET = 7,
  PROG_ATTACH = 8,
  PROG_DETACH = 9,
  PROG_TEST_RUN = 10,
  PROG_GET_NEXT_ID = 11,
  MAP_GET_NEXT_ID = 12,
  PROG_GET_FD_BY_ID = 13,
  MAP_GET_FD_BY_ID = 14,
  OBJ_GET_INFO_BY_FD = 15,
  PROG_QUERY = 16,
  RAW_TRACEPOINT_OPEN = 17,
  BTF_LOAD = 18,
  BTF_GET_FD_BY_ID = 19,
  TASK_FD_QUERY = 20,
  MAP_LOOKUP_AND_DELETE_ELEM = 21,
  MAP_FREEZE = 22,
  BTF_GET_NEXT_ID = 23,
  MAP_LOOKUP_BATCH = 24,
  MAP_LOOKUP_AND_DELETE_BATCH = 25,
  MAP_UPDATE_BATCH = 26,
  MAP_DELETE_BATCH = 27,
  LINK_CREATE = 28,
  LINK_UPDATE = 29,
  LINK_GET_FD_BY_ID = 30,
  LINK_GET_NEXT_ID = 31,
  ENABLE_STATS = 32,
  ITER_CREATE = 33,
  LINK_DETACH = 34,
  PROG_BIND_MAP = 35,
  TOKEN_CREATE = 36,
  PROG_STREAM_READ_BY_FD = 37,
}

/** enum bpf_link_type. */
export enum LinkType {
  UNSPEC = 0,
  RAW_TRACEPOINT = 1,
  TRACING = 2,
  CGROUP = 3,
  ITER = 4,
  NETNS = 5,
  XDP = 6,
  PERF_EVENT = 7,
  KPROBE_MULTI = 8,
  STRUCT_OPS = 9,
  NETFILTER = 10,
  TCX = 11,
  UPROBE_MULTI = 12,
  NETKIT = 13,
  SOCKMAP = 14,
}

/** prog_flags of BPF_PROG_LOAD (BPF_F_*). */
export enum ProgFlags {
  STRICT_ALIGNMENT = 1 << 0,
  ANY_ALIGNMENT = 1 << 1,
  TEST_RND_HI32 = 1 << 2,
  TEST_STATE_FREQ = 1 << 3,
  SLEEPABLE = 1 << 4,
  XDP_HAS_FRAGS = 1 << 5,
  XDP_DEV_BOUND_ONLY = 1 << 6,
  TEST_REG_INVARIANTS = 1 << 7,
  TOKEN_FD = 1 << 16,
}

/** flags of BPF_PROG_TEST_RUN. */
export enum TestRunFlags {
  RUN_ON_CPU = 1 << 0,
  XDP_LIVE_FRAMES = 1 << 1,
  TEST_SKB_CHECKSUM_COMPLETE = 1 << 2,
}

/** enum bpf_stats_type (BPF_ENABLE_STATS). */
export enum StatsType {
  RUN_TIME = 0,
}

/** Flags of BPF_OBJ_GET / *_GET_FD_BY_ID (file_flags, open_flags). */
export enum FileFlags {
  RDONLY = 1 << 3,
  WRONLY = 1 << 4,
}

/** Verifier log levels (log_level of BPF_PROG_LOAD). */
export enum LogLevel {
  NONE = 0,
  /** the instructions walked and the failure */
  INSTRUCTIONS = 1,
  /** every state of every instruction */
  STATES = 2,
  /** only statistics */
  STATS = 4,
}

/** The largest verifier log the kernel accepts (UINT_MAX >> 2). */
export const MAX_LOG_SIZE = 0x3fffffff;
/** Length of an object name, NUL included (BPF_OBJ_NAME_LEN). */
export const OBJ_NAME_LEN = 16;
/** Length of a program tag (BPF_TAG_SIZE). */
export const TAG_SIZE = 8;

type NumericEnum = Record<string, string | number>;

function nameOf(e: NumericEnum, value: number): string {
  const key = e[value];
  return typeof key === "string" ? key.toLowerCase() : `unknown(${value})`;
}

function valueOf(e: NumericEnum, what: string, name: string | number): number {
  if (typeof name === "number") return name;
  const key = name.toUpperCase().replace(/-/g, "_");
  const value = e[key];
  if (typeof value !== "number") {
    const known = Object.keys(e)
      .filter((k) => Number.isNaN(Number(k)))
      .map((k) => k.toLowerCase());
    throw new RangeError(`unknown ${what} '${name}' (known: ${known.join(", ")})`);
  }
  return value;
}

/** libbpf's name of a link type: "raw_tracepoint", "tcx"… */
export const linkTypeName = (type: number): string => nameOf(LinkType, type);

/** A program type from its libbpf name (or number); RangeError naming the known ones. */
export const parseProgramType = (name: string | number): ProgramType =>
  valueOf(ProgramType, "program type", name);
/** A map type from its libbpf name (or number). */
export const parseMapType = (name: string | number): MapType => valueOf(MapType, "map type", name);
/** An attach type from its libbpf name (or number). */
export const parseAttachType = (name: string | number): AttachType =>
  valueOf(AttachType, "attach type", name);
/** A link type from its libbpf name (or number). */
export const parseLinkType = (name: string | number): LinkType => valueOf(LinkType, "link type", name);
