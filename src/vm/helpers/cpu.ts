/** bpf_get_smp_processor_id and bpf_get_numa_node_id: the CPU and node the env says the run is on. */
import { envOf, type RuntimeHelper } from "./common.js";

export const CPU_HELPERS: readonly RuntimeHelper[] = [
  { name: "bpf_get_smp_processor_id", fn: (call) => envOf(call).cpu },
  { name: "bpf_get_numa_node_id", fn: (call) => envOf(call).numaNode },
];
