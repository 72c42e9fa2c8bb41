/**
 * The system layer of the kernel backend: bpf(2) and the few other syscalls it needs, the
 * union bpf_attr layouts, the UAPI constants and the info structs.
 */
import * as attrs from "./attrs.js";
import * as infos from "./infos.js";
import type { Layout } from "./layout.js";

export * from "./attrs.js";
export * from "./infos.js";
export * from "./bpf.js";
export * from "./constants.js";
export * from "./info.js";
export * from "./fdinfo.js";
export * from "./layout.js";
export * from "./syscalls.js";
export { libcSyscalls } from "./libc.js";

/** Every layout with the C type (and union member) it mirrors, for the header check. */
export const LAYOUTS: Readonly<Record<string, { cType: string; member?: string; layout: Layout }>> = {
  map_create: { cType: "union bpf_attr", layout: attrs.MAP_CREATE_ATTR },
  map_elem: { cType: "union bpf_attr", layout: attrs.MAP_ELEM_ATTR },
  map_batch: { cType: "union bpf_attr", member: "batch", layout: attrs.MAP_BATCH_ATTR },
  prog_load: { cType: "union bpf_attr", layout: attrs.PROG_LOAD_ATTR },
  obj: { cType: "union bpf_attr", layout: attrs.OBJ_ATTR },
  prog_attach: { cType: "union bpf_attr", layout: attrs.PROG_ATTACH_ATTR },
  test: { cType: "union bpf_attr", member: "test", layout: attrs.PROG_TEST_RUN_ATTR },
  get_id: { cType: "union bpf_attr", layout: attrs.GET_ID_ATTR },
  info: { cType: "union bpf_attr", member: "info", layout: attrs.OBJ_INFO_ATTR },
  query: { cType: "union bpf_attr", member: "query", layout: attrs.PROG_QUERY_ATTR },
  raw_tracepoint: {
    cType: "union bpf_attr",
    member: "raw_tracepoint",
    layout: attrs.RAW_TRACEPOINT_OPEN_ATTR,
  },
  btf_load: { cType: "union bpf_attr", layout: attrs.BTF_LOAD_ATTR },
  task_fd_query: { cType: "union bpf_attr", member: "task_fd_query", layout: attrs.TASK_FD_QUERY_ATTR },
  link_create: { cType: "union bpf_attr", member: "link_create", layout: attrs.LINK_CREATE_ATTR },
  link_update: { cType: "union bpf_attr", member: "link_update", layout: attrs.LINK_UPDATE_ATTR },
  link_detach: { cType: "union bpf_attr", member: "link_detach", layout: attrs.LINK_DETACH_ATTR },
  enable_stats: { cType: "union bpf_attr", member: "enable_stats", layout: attrs.ENABLE_STATS_ATTR },
  iter_create: { cType: "union bpf_attr", member: "iter_create", layout: attrs.ITER_CREATE_ATTR },
  prog_bind_map: { cType: "union bpf_attr", member: "prog_bind_map", layout: attrs.PROG_BIND_MAP_ATTR },
  token_create: { cType: "union bpf_attr", member: "token_create", layout: attrs.TOKEN_CREATE_ATTR },
  bpf_prog_info: { cType: "struct bpf_prog_info", layout: infos.PROG_INFO },
  bpf_map_info: { cType: "struct bpf_map_info", layout: infos.MAP_INFO },
  bpf_btf_info: { cType: "struct bpf_btf_info", layout: infos.BTF_INFO },
  bpf_link_info: { cType: "struct bpf_link_info", layout: infos.LINK_INFO },
};
