import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { kernelTest } from "../helpers/kernel-gate.js";
import { featureStatus, type Feature } from "../helpers/requires.js";
import { cliMissing, run, ToolProcess } from "./helpers.js";
import { loopbackSession, noIpv6Loopback } from "./tcp-workload.js";

interface ConnectJson {
  pid: number;
  comm: string;
  ip: number;
  saddr: string;
  daddr: string;
  dport: number;
  container?: string | null;
}

const unshare = ((): string | undefined => {
  try {
    execFileSync("unshare", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "unshare(1) not available";
  }
})();

// The guides' hook (kprobe/kretprobe on tcp_v4_connect and tcp_v6_connect) where the kernel has
// kprobes, and the tracepoint every kernel has; --hook forces one, and the tool says which.
const HOOKS: readonly { hook: string; requires: Feature[] }[] = [
  { hook: "kprobe", requires: ["kprobe"] },
  { hook: "tracepoint", requires: [] },
];

const missing = cliMissing();
if (missing) test("tcpconnect", { skip: missing }, () => {});
else
  for (const { hook, requires } of HOOKS) {
    for (const host of ["127.0.0.1", "::1"])
      kernelTest(
        `tcpconnect --hook ${hook} sees the test's loopback connect() to ${host} (pid, addresses, port)`,
        { requires },
        async (t) => {
          const v6 = host.includes(":");
          const why = v6 ? await noIpv6Loopback() : undefined;
          if (why) return t.skip(why);
          const tool = new ToolProcess([
            "tool",
            "tcpconnect",
            "--json",
            "--containers",
            "--hook",
            hook,
            "-p",
            String(process.pid),
          ]);
          let ports: { serverPort: number; clientPort: number };
          try {
            await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
            assert.ok(
              tool.stderr.some((l) => l.includes(`Tracing connect() (${hook})`)),
              tool.stderr.join("\n"),
            );
            ports = await loopbackSession(10, host);
            await tool.waitFor("the connect", () =>
              tool.json<ConnectJson>().some((e) => e.dport === ports.serverPort),
            );
          } finally {
            assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
          }
          const e = tool.json<ConnectJson>().find((x) => x.dport === ports.serverPort)!;
          assert.deepEqual(e, {
            pid: process.pid,
            comm: "node",
            ip: v6 ? 6 : 4,
            saddr: host,
            daddr: host,
            dport: ports.serverPort,
            container: null,
          });
        },
      );

    kernelTest(
      `tcpconnect --hook ${hook} --containers-only shows a connect from a new PID+UTS namespace with its nodename`,
      { requires },
      async (t) => {
        if (unshare) return t.skip(unshare);
        const nodename = `ctr-${process.pid}`;
        const tool = new ToolProcess(["tool", "tcpconnect", "--json", "--containers-only", "--hook", hook]);
        try {
          await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
          await loopbackSession(10); // on the host: must not be shown
          // A "container": new PID and UTS namespaces, its own hostname, one connect to port 9 (refused).
          const script = `hostname ${nodename} && exec ${process.execPath} -e "require('net').connect(9,'127.0.0.1').on('error',()=>{})"`;
          assert.equal(
            await run("unshare", ["--pid", "--uts", "--fork", "--mount-proc", "sh", "-c", script]),
            0,
          );
          await tool.waitFor("the container's connect", () =>
            tool.json<ConnectJson>().some((e) => e.dport === 9),
          );
          await new Promise((r) => setTimeout(r, 300));
        } finally {
          assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
        }
        const events = tool.json<ConnectJson>();
        assert.ok(events.length >= 1 && events.every((e) => e.container !== null), JSON.stringify(events));
        const e = events.find((x) => x.dport === 9)!;
        assert.equal(e.container, nodename);
        assert.equal(e.comm, "node");
        assert.notEqual(e.pid, 1, "the host's view of the PID, not the namespace's");
      },
    );
  }

if (!missing)
  kernelTest(
    "tcpconnect picks the kprobes where the kernel has them (auto), else says it falls back to the tracepoint",
    async () => {
      const tool = new ToolProcess(["tool", "tcpconnect", "--json", "-p", String(process.pid)]);
      try {
        await tool.waitFor("ready", () => tool.stderr.some((l) => l.includes("Tracing")));
      } finally {
        assert.equal(await tool.stop(), 0, tool.stderr.join("\n"));
      }
      const text = tool.stderr.join("\n");
      if (featureStatus("kprobe").present) assert.match(text, /Tracing connect\(\) \(kprobe\)/);
      else {
        assert.match(text, /using tracepoint sock:inet_sock_set_state instead/);
        assert.match(text, /Tracing connect\(\) \(tracepoint\)/);
      }
    },
  );
