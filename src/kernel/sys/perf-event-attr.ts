import { struct } from "./layout.js";

/**
 * struct perf_event_attr (include/uapi/linux/perf_event.h, PERF_ATTR_SIZE_VER8 = 136 bytes) and
 * the perf constants the kernel backend uses: attaching to tracepoints, kprobes and uprobes
 * through perf events, sampling, and the BPF output ring of perf buffers.
 */
export const PERF_EVENT_ATTR = struct("perf_event_attr", [
  ["type", "u32"],
  ["size", "u32"],
  ["config", "u64"],
  [["sample_period", "sample_freq"], "u64"],
  ["sample_type", "u64"],
  ["read_format", "u64"],
  /** The bit fields (disabled, inherit, …): see PerfAttrFlag. */
  ["flags", "u64"],
  [["wakeup_events", "wakeup_watermark"], "u32"],
  ["bp_type", "u32"],
  /** A pointer for kprobe_func / uprobe_path (a C string), a number for config1. */
  [["bp_addr", "kprobe_func", "uprobe_path", "config1"], "ptr"],
  [["bp_len", "kprobe_addr", "probe_offset", "config2"], "u64"],
  ["branch_sample_type", "u64"],
  ["sample_regs_user", "u64"],
  ["sample_stack_user", "u32"],
  ["clockid", "s32"],
  ["sample_regs_intr", "u64"],
  ["aux_watermark", "u32"],
  ["sample_max_stack", "u16"],
  ["__reserved_2", "u16"],
  ["aux_sample_size", "u32"],
  ["aux_action", "u32"],
  ["sig_data", "u64"],
  ["config3", "u64"],
]);

/** enum perf_type_id. */
export enum PerfType {
  HARDWARE = 0,
  SOFTWARE = 1,
  TRACEPOINT = 2,
  HW_CACHE = 3,
  RAW = 4,
  BREAKPOINT = 5,
}

/** enum perf_sw_ids. */
export enum PerfSwConfig {
  CPU_CLOCK = 0,
  TASK_CLOCK = 1,
  PAGE_FAULTS = 2,
  CONTEXT_SWITCHES = 3,
  CPU_MIGRATIONS = 4,
  PAGE_FAULTS_MIN = 5,
  PAGE_FAULTS_MAJ = 6,
  ALIGNMENT_FAULTS = 7,
  EMULATION_FAULTS = 8,
  DUMMY = 9,
  BPF_OUTPUT = 10,
  CGROUP_SWITCHES = 11,
}

/** enum perf_hw_id. */
export enum PerfHwConfig {
  CPU_CYCLES = 0,
  INSTRUCTIONS = 1,
  CACHE_REFERENCES = 2,
  CACHE_MISSES = 3,
  BRANCH_INSTRUCTIONS = 4,
  BRANCH_MISSES = 5,
  BUS_CYCLES = 6,
  STALLED_CYCLES_FRONTEND = 7,
  STALLED_CYCLES_BACKEND = 8,
  REF_CPU_CYCLES = 9,
}

/** Bits of perf_event_attr.flags (the C bit fields, in declaration order). */
export enum PerfAttrFlag {
  DISABLED = 1 << 0,
  INHERIT = 1 << 1,
  PINNED = 1 << 2,
  EXCLUSIVE = 1 << 3,
  EXCLUDE_USER = 1 << 4,
  EXCLUDE_KERNEL = 1 << 5,
  EXCLUDE_HV = 1 << 6,
  EXCLUDE_IDLE = 1 << 7,
  MMAP = 1 << 8,
  COMM = 1 << 9,
  /** sample_freq instead of sample_period */
  FREQ = 1 << 10,
  INHERIT_STAT = 1 << 11,
  ENABLE_ON_EXEC = 1 << 12,
  TASK = 1 << 13,
  /** wakeup_watermark (bytes) instead of wakeup_events */
  WATERMARK = 1 << 14,
}

/** enum perf_event_sample_format (the bits of sample_type). */
export enum PerfSample {
  IP = 1 << 0,
  TID = 1 << 1,
  TIME = 1 << 2,
  ADDR = 1 << 3,
  READ = 1 << 4,
  CALLCHAIN = 1 << 5,
  ID = 1 << 6,
  CPU = 1 << 7,
  PERIOD = 1 << 8,
  STREAM_ID = 1 << 9,
  RAW = 1 << 10,
}

/** enum perf_event_type: record types in the mmap'd ring. */
export enum PerfRecordType {
  MMAP = 1,
  LOST = 2,
  COMM = 3,
  EXIT = 4,
  THROTTLE = 5,
  UNTHROTTLE = 6,
  FORK = 7,
  READ = 8,
  SAMPLE = 9,
}

/** ioctl requests on perf event fds. */
export enum PerfIoctl {
  ENABLE = 0x2400,
  DISABLE = 0x2401,
  REFRESH = 0x2402,
  RESET = 0x2403,
  /** _IOW('$', 8, __u32): attach a BPF program (fd) to a tracepoint/kprobe/uprobe event. */
  SET_BPF = 0x40042408,
  /** _IOW('$', 9, __u32) */
  PAUSE_OUTPUT = 0x40042409,
}

/** flags of perf_event_open(2). */
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

/** struct perf_event_mmap_page: offsets of the ring's control fields (the page is 4 KiB+). */
export const PERF_MMAP_PAGE = {
  dataHead: 1024,
  dataTail: 1032,
  dataOffset: 1040,
  dataSize: 1048,
} as const;

/** Size of struct perf_event_header (u32 type, u16 misc, u16 size). */
export const PERF_EVENT_HEADER_SIZE = 8;
