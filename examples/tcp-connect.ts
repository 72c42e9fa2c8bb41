// The introduction's TCP connection tracer with its front end in TypeScript instead of BCC's
// Python: a kprobe and a kretprobe on tcp_v4_connect (bpf/scenarios/tcp_connect_kprobe.bpf.c),
// events read from a perf buffer, one line each. --containers-only is the talk's container
// extension (connections from processes outside the root PID namespace, with their nodename).
// Needs root and a kernel with kprobes; runs until Ctrl-C (or --count N events).
//
//   node dist/examples/tcp-connect.js [--containers-only] [--count N]
import { KernelCollection, TsbpfError, kernel, object } from "../src/index.js";

const args = process.argv.slice(2);
const containersOnly = args.includes("--containers-only");
const count = args.includes("--count") ? Number(args[args.indexOf("--count") + 1]) : Infinity;

const ntoa = (addr: number): string => [0, 8, 16, 24].map((shift) => (addr >>> shift) & 0xff).join(".");
const cstr = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString();

const WIDTHS = [6, 16, 16, 18, 6];
const row = (...cells: string[]): string =>
  cells
    .map((c, i) => c.padEnd(WIDTHS[i] ?? 0))
    .join(" ")
    .trimEnd();

/** struct data_t of the BPF side (104 bytes). */
function printEvent(data: Uint8Array): void {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pid = v.getUint32(0, true);
  const comm = cstr(data.subarray(4, 20));
  const [saddr, daddr] = [ntoa(v.getUint32(20, true)), ntoa(v.getUint32(24, true))];
  const dport = v.getUint16(28, true);
  const nodename = cstr(data.subarray(36, 101));
  console.log(row(String(pid), comm, saddr, daddr, String(dport), containersOnly ? nodename : ""));
}

async function main(): Promise<void> {
  // bpf = BPF(src_file = "trace.c"), with the talk's knob set before loading
  const spec = object.rewriteConstants(object.loadObjectFile("bpf/scenarios/tcp_connect_kprobe.bpf.o"), {
    containers_only: containersOnly,
  });
  using bpf = KernelCollection.load(spec);
  // bpf.attach_kprobe(event = "tcp_v4_connect", fn_name = "tcp_connect"), and its kretprobe twin
  using _kprobe = kernel.links.attachKprobe(bpf.program("tcp_connect"), { symbol: "tcp_v4_connect" });
  using _kretprobe = kernel.links.attachKretprobe(bpf.program("tcp_connect_ret"), {
    symbol: "tcp_v4_connect",
  });
  // bpf["events"].open_perf_buffer(print_event)
  using events = kernel.perf.PerfBufferReader.open(bpf.map("events"));

  console.log(
    row("PID", "COMMAND", "SOURCE-IPADDR", "DESTINATION-IPADDR", "DPORT", containersOnly ? "NODENAME" : ""),
  );
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  // while 1: bpf.perf_buffer_poll()
  let seen = 0;
  for await (const record of events.records({ signal: stop.signal })) {
    if (record.type === "lost") console.error(`lost ${record.lost} events on CPU ${record.cpu}`);
    else {
      printEvent(record.data);
      if (++seen >= count) break;
    }
  }
}

try {
  await main();
} catch (e) {
  // Bad input and missing kernel features are one line, not a stack trace.
  if (!(e instanceof TsbpfError)) throw e;
  console.error(`tcp-connect: ${e.message}`);
  process.exitCode = 1;
}
