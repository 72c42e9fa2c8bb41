import { struct } from "./layout.js";

/**
 * union bpf_attr, one layout per bpf(2) command, written once from include/uapi/linux/bpf.h
 * (Linux 6.18). Field names are the header's; members of a named union-of-structs are written
 * "variant.field". test/kernel/attrs.test.ts checks every offset against the header.
 */

/** BPF_MAP_CREATE */
export const MAP_CREATE_ATTR = struct("map_create", [
  ["map_type", "u32"],
  ["key_size", "u32"],
  ["value_size", "u32"],
  ["max_entries", "u32"],
  ["map_flags", "u32"],
  ["inner_map_fd", "u32"],
  ["numa_node", "u32"],
  ["map_name", "char[16]"],
  ["map_ifindex", "u32"],
  ["btf_fd", "u32"],
  ["btf_key_type_id", "u32"],
  ["btf_value_type_id", "u32"],
  ["btf_vmlinux_value_type_id", "u32"],
  ["map_extra", "u64"],
  ["value_type_btf_obj_fd", "s32"], // 6.9
  ["map_token_fd", "s32"], // 6.9
  ["excl_prog_hash", "ptr"], // 6.18
  ["excl_prog_hash_size", "u32"],
]);

/** BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_FREEZE */
export const MAP_ELEM_ATTR = struct("map_elem", [
  ["map_fd", "u32"],
  ["key", "ptr"],
  [["value", "next_key"], "ptr"],
  ["flags", "u64"],
]);

/** BPF_MAP_*_BATCH */
export const MAP_BATCH_ATTR = struct("map_batch", [
  ["in_batch", "ptr"],
  ["out_batch", "ptr"],
  ["keys", "ptr"],
  ["values", "ptr"],
  ["count", "u32"],
  ["map_fd", "u32"],
  ["elem_flags", "u64"],
  ["flags", "u64"],
]);

/** BPF_PROG_LOAD */
export const PROG_LOAD_ATTR = struct("prog_load", [
  ["prog_type", "u32"],
  ["insn_cnt", "u32"],
  ["insns", "ptr"],
  ["license", "ptr"],
  ["log_level", "u32"],
  ["log_size", "u32"],
  ["log_buf", "ptr"],
  ["kern_version", "u32"],
  ["prog_flags", "u32"],
  ["prog_name", "char[16]"],
  ["prog_ifindex", "u32"],
  ["expected_attach_type", "u32"],
  ["prog_btf_fd", "u32"],
  ["func_info_rec_size", "u32"],
  ["func_info", "ptr"],
  ["func_info_cnt", "u32"],
  ["line_info_rec_size", "u32"],
  ["line_info", "ptr"],
  ["line_info_cnt", "u32"],
  ["attach_btf_id", "u32"],
  [["attach_prog_fd", "attach_btf_obj_fd"], "u32"],
  ["core_relo_cnt", "u32"],
  ["fd_array", "ptr"],
  ["core_relos", "ptr"],
  ["core_relo_rec_size", "u32"],
  ["log_true_size", "u32"], // 6.4
  ["prog_token_fd", "s32"], // 6.9
  ["fd_array_cnt", "u32"], // 6.14
  ["signature", "ptr"], // 6.18
  ["signature_size", "u32"],
  ["keyring_id", "s32"],
]);

/** BPF_OBJ_PIN, BPF_OBJ_GET */
export const OBJ_ATTR = struct("obj", [
  ["pathname", "ptr"],
  ["bpf_fd", "u32"],
  ["file_flags", "u32"],
  ["path_fd", "s32"], // 6.5
]);

/** BPF_PROG_ATTACH, BPF_PROG_DETACH */
export const PROG_ATTACH_ATTR = struct("prog_attach", [
  [["target_fd", "target_ifindex"], "u32"],
  ["attach_bpf_fd", "u32"],
  ["attach_type", "u32"],
  ["attach_flags", "u32"],
  ["replace_bpf_fd", "u32"],
  [["relative_fd", "relative_id"], "u32"], // 6.6
  ["expected_revision", "u64"],
]);

/** BPF_PROG_TEST_RUN */
export const PROG_TEST_RUN_ATTR = struct("test", [
  ["prog_fd", "u32"],
  ["retval", "u32"],
  ["data_size_in", "u32"],
  ["data_size_out", "u32"],
  ["data_in", "ptr"],
  ["data_out", "ptr"],
  ["repeat", "u32"],
  ["duration", "u32"],
  ["ctx_size_in", "u32"],
  ["ctx_size_out", "u32"],
  ["ctx_in", "ptr"],
  ["ctx_out", "ptr"],
  ["flags", "u32"],
  ["cpu", "u32"],
  ["batch_size", "u32"],
]);

/** BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID */
export const GET_ID_ATTR = struct("get_id", [
  [["start_id", "prog_id", "map_id", "btf_id", "link_id"], "u32"],
  ["next_id", "u32"],
  ["open_flags", "u32"],
  ["fd_by_id_token_fd", "s32"], // 6.18
]);

/** BPF_OBJ_GET_INFO_BY_FD */
export const OBJ_INFO_ATTR = struct("info", [
  ["bpf_fd", "u32"],
  ["info_len", "u32"],
  ["info", "ptr"],
]);

/** BPF_PROG_QUERY */
export const PROG_QUERY_ATTR = struct("query", [
  [["target_fd", "target_ifindex"], "u32"],
  ["attach_type", "u32"],
  ["query_flags", "u32"],
  ["attach_flags", "u32"],
  ["prog_ids", "ptr"],
  [["prog_cnt", "count"], "u32"],
  ["prog_attach_flags", "ptr"],
  ["link_ids", "ptr"], // 6.6
  ["link_attach_flags", "ptr"],
  ["revision", "u64"],
]);

/** BPF_RAW_TRACEPOINT_OPEN */
export const RAW_TRACEPOINT_OPEN_ATTR = struct("raw_tracepoint", [
  ["name", "ptr"],
  ["prog_fd", "u32"],
  ["cookie", "u64"], // 6.10
]);

/** BPF_BTF_LOAD */
export const BTF_LOAD_ATTR = struct("btf_load", [
  ["btf", "ptr"],
  ["btf_log_buf", "ptr"],
  ["btf_size", "u32"],
  ["btf_log_size", "u32"],
  ["btf_log_level", "u32"],
  ["btf_log_true_size", "u32"], // 6.4
  ["btf_flags", "u32"], // 6.9
  ["btf_token_fd", "s32"],
]);

/** BPF_TASK_FD_QUERY */
export const TASK_FD_QUERY_ATTR = struct("task_fd_query", [
  ["pid", "u32"],
  ["fd", "u32"],
  ["flags", "u32"],
  ["buf_len", "u32"],
  ["buf", "ptr"],
  ["prog_id", "u32"],
  ["fd_type", "u32"],
  ["probe_offset", "u64"],
  ["probe_addr", "u64"],
]);

/** BPF_LINK_CREATE: a common head and one union of per-kind structs starting at offset 16. */
export const LINK_CREATE_ATTR = struct("link_create", [
  [["prog_fd", "map_fd"], "u32"],
  [["target_fd", "target_ifindex"], "u32"],
  ["attach_type", "u32"],
  ["flags", "u32"],
  ["target_btf_id", "u32", { at: 16 }],
  ["iter_info", "ptr", { at: 16 }],
  ["iter_info_len", "u32"],
  ["perf_event.bpf_cookie", "u64", { at: 16 }],
  ["kprobe_multi.flags", "u32", { at: 16 }],
  ["kprobe_multi.cnt", "u32"],
  ["kprobe_multi.syms", "ptr"],
  ["kprobe_multi.addrs", "ptr"],
  ["kprobe_multi.cookies", "ptr"],
  ["tracing.target_btf_id", "u32", { at: 16 }],
  ["tracing.cookie", "u64"],
  ["netfilter.pf", "u32", { at: 16 }],
  ["netfilter.hooknum", "u32"],
  ["netfilter.priority", "s32"],
  ["netfilter.flags", "u32"],
  [["tcx.relative_fd", "tcx.relative_id"], "u32", { at: 16 }],
  ["tcx.expected_revision", "u64"],
  ["uprobe_multi.path", "ptr", { at: 16 }],
  ["uprobe_multi.offsets", "ptr"],
  ["uprobe_multi.ref_ctr_offsets", "ptr"],
  ["uprobe_multi.cookies", "ptr"],
  ["uprobe_multi.cnt", "u32"],
  ["uprobe_multi.flags", "u32"],
  ["uprobe_multi.pid", "u32"],
  [["netkit.relative_fd", "netkit.relative_id"], "u32", { at: 16 }],
  ["netkit.expected_revision", "u64"],
  [["cgroup.relative_fd", "cgroup.relative_id"], "u32", { at: 16 }],
  ["cgroup.expected_revision", "u64"],
]);

/** BPF_LINK_UPDATE */
export const LINK_UPDATE_ATTR = struct("link_update", [
  ["link_fd", "u32"],
  [["new_prog_fd", "new_map_fd"], "u32"],
  ["flags", "u32"],
  [["old_prog_fd", "old_map_fd"], "u32"],
]);

/** BPF_LINK_DETACH */
export const LINK_DETACH_ATTR = struct("link_detach", [["link_fd", "u32"]]);

/** BPF_ENABLE_STATS */
export const ENABLE_STATS_ATTR = struct("enable_stats", [["type", "u32"]]);

/** BPF_ITER_CREATE */
export const ITER_CREATE_ATTR = struct("iter_create", [
  ["link_fd", "u32"],
  ["flags", "u32"],
]);

/** BPF_PROG_BIND_MAP */
export const PROG_BIND_MAP_ATTR = struct("prog_bind_map", [
  ["prog_fd", "u32"],
  ["map_fd", "u32"],
  ["flags", "u32"],
]);

/** BPF_TOKEN_CREATE (6.9) */
export const TOKEN_CREATE_ATTR = struct("token_create", [
  ["flags", "u32"],
  ["bpffs_fd", "u32"],
]);
