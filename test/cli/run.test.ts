import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { CommandIO } from "../../src/cli/command.js";
import { formatRunJson } from "../../src/cli/commands/run.js";
import { main } from "../../src/cli/main.js";
import { readCapture } from "../../src/vm/pcap/index.js";

// the repository root, whether this runs from the sources (tsx) or from dist/ (compiled)
const root = ["../..", "../../.."]
  .map((up) => fileURLToPath(new URL(`${up}/`, import.meta.url)))
  .find((dir) => existsSync(`${dir}package.json`))!;

function io(): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    readStdin: async () => "",
  };
}
const run = async (...args: string[]) => {
  const c = io();
  const code = await main(["run", ...args], c);
  return { code, out: c.stdout.join("\n"), err: c.stderr.join("\n") };
};

test("run --json prints exactly retval, dataOut, nsPerRun, maps", async () => {
  const r = await run(
    `${root}bpf/maps/percpu_array.bpf.o`,
    "--data-in",
    `${root}bpf/testdata/eth-ipv4-icmp-echo.bin`,
    "--json",
    "--repeat",
    "3",
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as {
    retval: number;
    dataOut: string;
    nsPerRun: number;
    maps: Record<string, { key: string; value: string[] }[]>;
  };
  assert.deepEqual(Object.keys(j), ["retval", "dataOut", "nsPerRun", "maps"]);
  assert.equal(j.retval, 2);
  assert.equal(j.dataOut, readFileSync(`${root}bpf/testdata/eth-ipv4-icmp-echo.bin`).toString("hex"));
  const entry = j.maps.percpu_packets![0]!;
  assert.equal(entry.key, "00000000");
  assert.equal(entry.value[0], "0300000000000000"); // three runs on CPU 0
  assert.ok(entry.value.slice(1).every((v) => v === "0000000000000000"));
  assert.match(
    r.out,
    /^\{"retval": 2, "dataOut": "[0-9a-f]+", "nsPerRun": [0-9.]+, "maps": \{"percpu_packets": \[\{"key": "00000000", "value": \["03/,
  );
});

test("run --json: global data under section names, queues in pop order with an empty key", async () => {
  const g = await run(`${root}bpf/lang/global_data.bpf.o`, "--json");
  assert.equal(g.code, 0, g.err);
  const maps = (JSON.parse(g.out) as { maps: Record<string, unknown> }).maps;
  assert.ok(".data" in maps && ".bss" in maps && ".rodata" in maps, Object.keys(maps).join());
  const q = await run(`${root}bpf/maps/queue.bpf.o`, "--json");
  assert.equal(
    q.out,
    `{"retval": 1020, "dataOut": "", "nsPerRun": ${(JSON.parse(q.out) as { nsPerRun: number }).nsPerRun}, "maps": {"fifo": [{"key": "", "value": "1e000000"}]}}`,
  );
});

test("run: human output names the verdict; program by section name", async () => {
  const r = await run(
    `${root}bpf/scenarios/xdp_drop_icmp.bpf.o`,
    "--prog",
    "xdp",
    "--data-in",
    `${root}bpf/testdata/eth-ipv4-icmp-echo.bin`,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^xdp_drop_icmp \(xdp\): XDP_DROP \(1\)\n/);
  assert.match(r.out, /map action_count: 1 entry\n {2}01000000: 0100000000000000/);
});

test("run --pcap counts verdicts and writes the passing packets", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-run-"));
  try {
    const out = join(dir, "out.pcap");
    const r = await run(
      `${root}bpf/scenarios/xdp_drop_icmp.bpf.o`,
      "--pcap",
      `${root}bpf/testdata/pings-and-udp.pcap`,
      "--out",
      out,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /XDP_DROP +6\n {2}XDP_PASS +4/);
    assert.match(r.out, /map action_count: 2 entries/);
    assert.equal(readCapture(new Uint8Array(readFileSync(out))).packets.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run: errors are one line with the right exit code", async () => {
  const several = await run(`${root}bpf/helpers/redirect.bpf.o`);
  assert.equal(several.code, 2);
  assert.match(
    several.err,
    /several programs, choose one with --prog: tc_redirect \(tc\), xdp_redirect_map \(xdp\)/,
  );
  const badInput = await run(
    `${root}bpf/progs/syscall_args.bpf.o`,
    "--data-in",
    `${root}bpf/testdata/eth-ipv4-udp.bin`,
  );
  assert.equal(badInput.code, 2);
  assert.match(badInput.err, /syscall test run: data_in is not accepted/);
  const noProg = await run(`${root}bpf/lang/global_data.bpf.o`, "--prog", "nope");
  assert.equal(noProg.code, 2);
  assert.match(noProg.err, /no program 'nope'/);
  const backend = await run(`${root}bpf/lang/global_data.bpf.o`, "--backend", "gpu");
  assert.equal(backend.code, 2);
  assert.match(backend.err, /unknown backend 'gpu'/);
  // a fault at run time is exit code 1: without ctx_in a syscall program's r1 is NULL
  const fault = await run(`${root}bpf/progs/syscall_args.bpf.o`, "--ctx-in", "/dev/null");
  assert.equal(fault.code, 1, fault.err);
  assert.match(fault.err, /^tsbpf run: syscall_calc: pc \d+ .*null pointer/);
});

test("formatRunJson: per-CPU values are arrays of hex strings", () => {
  const text = formatRunJson({
    program: "p",
    programType: "xdp",
    retval: -1 >>> 0,
    retvalMeaning: "",
    dataOut: Uint8Array.of(1, 2),
    nsPerRun: 12.34,
    maps: { m: [{ key: "00", value: ["01", "02"] }] },
  });
  assert.equal(
    text,
    '{"retval": 4294967295, "dataOut": "0102", "nsPerRun": 12.3, "maps": {"m": [{"key": "00", "value": ["01", "02"]}]}}',
  );
});
