/**
 * Shared infrastructure of the tools (src/tools/<name>.ts). Stable API:
 *
 * tool.ts       Tool {name, summary, usage, run(args, io, signal): Promise<exit code>}, ToolIO {out, err},
 *               ToolUsageError (exit 2 + usage line).
 * options.ts    defineTool({name, summary, options: {pid: {kind: "int", short: "p", arg: "PID", help}},
 *               positionals: [{name: "interval", help}], examples, prometheus: true}) and
 *               parseToolArgs(spec, args) -> typed {pid: number|undefined, ..., json, prometheus,
 *               positionals: {interval?: number}}; usageText(spec) for Tool.usage; parseInteger.
 *               Every tool gets --json (and --prometheus HOST:PORT when spec.prometheus).
 * output.ts     new Table(io, columns, json): header() + row(r); Column {name, width, right, key, value(r), text?(r)};
 *               JSON field = lower-cased column name (jsonKey("TIME(s)") = "time_s"); toJson (bigints).
 * histogram.ts  formatLog2Histogram(slots, "usecs", {stripLeadingZero}) -> lines in BCC's exact format
 *               (slot i = floor(log2 v), libbpf-tools' log2l layout); formatLinearHistogram;
 *               log2HistogramJson(slots, unit) -> {unit, buckets: [{low, high, count}], total}; log2Slot; readSlots.
 * prometheus.ts PrometheusExporter.start("HOST:PORT", tool) -> .counter / .counterFrom / .gaugeFrom /
 *               .log2Histogram(name, help, scale, read) / .address / close(); parseHostPort.
 * cleanup.ts    Cleanup (defer/use/close in reverse order), sleep(ms, signal), waitForAbort(signal), untilSignal(signal, durationMs),
 *               everyInterval({intervalMs, count, signal, finalTick}, tick), pollUntil(reader, signal, cb),
 *               terminationSignal() (SIGINT/SIGTERM -> AbortSignal; used by the CLI).
 * events.ts     runEventLoop({tool, io, signal, reader, table, json, tracing, durationSeconds, prometheus,
 *               metrics(prom), lost, onEvent(data, metrics)}): the ring-buffer tools' loop; globalCounter(obj, "lost").
 * bpf.ts        loadToolObject(name, {constants, programs, mapSizes}) -> KernelCollection of
 *               bpf/tools/NAME.bpf.o (constants through the object layer's rewriteConstants); toolObjectPath.
 * format.ts     cString, ipAddress, clockTime (HH:MM:SS), monotonicNs, ERRNO_NAMES, AF_INET/AF_INET6.
 * container.ts  decodeContainer / containerId for bpf/tools/container.h's struct container_info.
 * syscalls.ts   syscallName(nr) / syscallNumber(name) / SYSCALL_NAMES (x86_64).
 * tcp.ts        TCP_STATES / tcpStateName, eventAddress(data, offset, family), ipVersion.
 * (symbolize.ts, stacks.ts, stack-report.ts and flamegraph.ts belong to the stack tools: profile, offcputime.)
 */
export * from "./tool.js";
export * from "./options.js";
export * from "./output.js";
export * from "./histogram.js";
export * from "./prometheus.js";
export * from "./cleanup.js";
export * from "./events.js";
export * from "./bpf.js";
export * from "./format.js";
export * from "./container.js";
export * from "./syscalls.js";
export * from "./tcp.js";
