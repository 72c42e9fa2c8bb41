// The same object on both backends: load the guides' XDP program that drops ICMP, run it on a
// ping and on a UDP packet, and read its per-action counters. `backend: "kernel"` needs root.
import { readFileSync } from "node:fs";
import { load, type Backend } from "../src/index.js";

const ping = readFileSync("bpf/testdata/eth-ipv4-icmp-echo.bin");
const udp = readFileSync("bpf/testdata/eth-ipv4-udp.bin");
const backends: Backend[] = process.getuid?.() === 0 ? ["vm", "kernel"] : ["vm"];

for (const backend of backends) {
  using obj = await load("bpf/scenarios/xdp_drop_icmp.bpf.o", { backend });
  const prog = obj.program("xdp_drop_icmp");
  const verdicts = [ping, udp].map((packet) => prog.run({ dataIn: packet }).retval);
  const counts = [...obj.map("action_count").typedEntries()].filter(([, n]) => n !== 0n);
  console.log(
    `${backend}: retvals ${verdicts.join(", ")}; action_count ${JSON.stringify(counts, (_, v) => (typeof v === "bigint" ? Number(v) : v))}`,
  );
}
