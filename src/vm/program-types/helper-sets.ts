/** Helper names shared by several program types (the kernel's bpf_base_func_proto and friends). */

/** Helpers every program type may call (maps, time, random, printk, loops, strings, tail calls). */
export const BASE_HELPERS: readonly string[] = [
  "bpf_map_lookup_elem",
  "bpf_map_update_elem",
  "bpf_map_delete_elem",
  "bpf_map_push_elem",
  "bpf_map_pop_elem",
  "bpf_map_peek_elem",
  "bpf_map_lookup_percpu_elem",
  "bpf_for_each_map_elem",
  "bpf_ringbuf_output",
  "bpf_ringbuf_reserve",
  "bpf_ringbuf_submit",
  "bpf_ringbuf_discard",
  "bpf_ringbuf_query",
  "bpf_tail_call",
  "bpf_ktime_get_ns",
  "bpf_ktime_get_boot_ns",
  "bpf_ktime_get_coarse_ns",
  "bpf_jiffies64",
  "bpf_get_prandom_u32",
  "bpf_get_smp_processor_id",
  "bpf_get_numa_node_id",
  "bpf_trace_printk",
  "bpf_trace_vprintk",
  "bpf_snprintf",
  "bpf_loop",
  "bpf_strncmp",
  "bpf_probe_read_kernel",
  "bpf_probe_read_kernel_str",
  "bpf_probe_read_user",
  "bpf_probe_read_user_str",
];

/** Current-task helpers (tracing, syscall and cgroup programs). */
export const TASK_HELPER_NAMES: readonly string[] = [
  "bpf_get_current_pid_tgid",
  "bpf_get_current_uid_gid",
  "bpf_get_current_comm",
  "bpf_get_current_task",
  "bpf_get_current_task_btf",
  "bpf_probe_read",
  "bpf_probe_read_str",
];

/** Tracing output helpers. */
export const TRACING_HELPERS: readonly string[] = ["bpf_perf_event_output", ...TASK_HELPER_NAMES];

/** Packet helpers of skb programs. */
export const SKB_HELPER_NAMES: readonly string[] = [
  "bpf_skb_load_bytes",
  "bpf_skb_load_bytes_relative",
  "bpf_perf_event_output",
  "bpf_csum_diff",
];

/** The open-coded iterator kfuncs (allowed to every type, as in the kernel's common kfunc set). */
export const COMMON_KFUNCS: readonly string[] = [
  "bpf_iter_num_new",
  "bpf_iter_num_next",
  "bpf_iter_num_destroy",
];
