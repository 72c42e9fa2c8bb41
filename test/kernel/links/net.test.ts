import assert from "node:assert/strict";
import { mkdirSync, rmdirSync } from "node:fs";
import { after, before } from "node:test";
import { SyscallError } from "../../../src/kernel/errors.js";
import { KernelMap } from "../../../src/kernel/map.js";
import { KernelProgram } from "../../../src/kernel/program.js";
import { ProgramBuilder, R0 } from "../../../src/isa/builder.js";
import {
  NetfilterHook,
  NetfilterProtocol,
  XdpFlags,
  attachCgroup,
  attachNetfilter,
  attachSockmap,
  attachSocketFilter,
  attachTc,
  attachTcx,
  attachXdp,
  socketSyscalls,
} from "../../../src/kernel/links/index.js";
import { AttachType, LinkType, progDetach } from "../../../src/kernel/sys/index.js";
import { describeKernel, kernelTest, uniqueName } from "../../helpers/kernel-gate.js";
import { count, counterMap, countingProgram, createNetns, sh, type TestNetns } from "./helpers.js";
import { cgroup2Root } from "../../helpers/cgroup.js";

describeKernel("network and cgroup links (in a test network namespace)", () => {
  let ns: TestNetns;
  const map = counterMap();
  const reset = (m: KernelMap = map): void => m.update(new Uint8Array(4), new Uint8Array(8));
  before(() => {
    ns = createNetns();
  });
  after(() => {
    map.close();
    ns.remove();
  });

  kernelTest("xdp generic on veth counts arriving packets; update() swaps the program", () => {
    reset();
    const second = counterMap();
    using prog = countingProgram(map, { type: "xdp", ret: 2 /* XDP_PASS */ });
    using prog2 = countingProgram(second, { type: "xdp", ret: 2 });
    try {
      using link = ns.inside(() => attachXdp(prog, { interface: "veth-b", flags: XdpFlags.GENERIC }));
      ns.sendUdp(3, 9);
      assert.ok(count(map) >= 3n, `count ${count(map)}`);
      const info = link.info();
      assert.equal(info.type, LinkType.XDP);
      assert.equal(info.details.ifindex, ns.ifindex);
      link.update(prog2);
      const before = count(map);
      ns.sendUdp(2, 9);
      assert.equal(count(map), before);
      assert.ok(count(second) >= 2n);
      assert.equal(link.info().progId, prog2.id);
    } finally {
      second.close();
    }
  });

  kernelTest("tcx ingress on veth counts arriving packets", { requires: ["tcx"] }, () => {
    reset();
    using prog = countingProgram(map, { type: "sched_cls", ret: 0 /* TCX_PASS */ });
    // An ifindex is resolved in the caller's namespace (ns.ifindex names nothing, or another
    // device, outside the test namespace): attach from inside it.
    using link = ns.inside(() => attachTcx(prog, { interface: "veth-b", direction: "ingress" }));
    ns.sendUdp(3, 9);
    assert.ok(count(map) >= 3n, `count ${count(map)}`);
    const info = link.info();
    assert.equal(info.type, LinkType.TCX);
    assert.equal(info.details.ifindex, ns.ifindex);
    assert.equal(info.details.attach_type, AttachType.TCX_INGRESS);
  });

  kernelTest(
    "classic tc: clsact qdisc + direct-action cls_bpf filter through rtnetlink, removed on close",
    () => {
      reset();
      using prog = countingProgram(map, { type: "sched_cls", ret: 0 /* TC_ACT_OK */ });
      const link = ns.inside(() =>
        attachTc(prog, { interface: "veth-b", direction: "ingress", priority: 7 }),
      );
      try {
        const filters = sh("ip", [
          "netns",
          "exec",
          ns.name,
          "tc",
          "filter",
          "show",
          "dev",
          "veth-b",
          "ingress",
        ]);
        assert.match(filters, /pref 7 bpf .*direct-action/);
        ns.sendUdp(3, 9);
        assert.ok(count(map) >= 3n, `count ${count(map)}`);
        assert.throws(
          () => ns.inside(() => attachTc(prog, { interface: "veth-b", direction: "ingress", priority: 7 })),
          (e: unknown) => e instanceof SyscallError && e.errnoName === "EEXIST",
        );
      } finally {
        link.close();
      }
      assert.equal(
        sh("ip", ["netns", "exec", ns.name, "tc", "filter", "show", "dev", "veth-b", "ingress"]).trim(),
        "",
      );
      assert.doesNotMatch(
        sh("ip", ["netns", "exec", ns.name, "tc", "qdisc", "show", "dev", "veth-b"]),
        /clsact/,
      );
    },
  );

  kernelTest("socket filter on a UDP socket sees exactly the datagrams sent to it", () => {
    reset();
    const sockets = socketSyscalls();
    const port = 20000 + (process.pid % 20000);
    const fd = ns.inside(() => sockets.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0));
    assert.ok(fd >= 0, `socket: errno ${-fd}`);
    try {
      const addr = new Uint8Array(16);
      const view = new DataView(addr.buffer);
      view.setUint16(0, 2, true);
      view.setUint16(2, port, false);
      assert.equal(sockets.bind(fd, addr), 0);
      using prog = countingProgram(map, { type: "socket_filter", ret: 0 /* drop */ });
      const link = attachSocketFilter(prog, { socket: fd });
      ns.sendUdp(4, port);
      assert.equal(count(map), 4n);
      link.close();
      link.close();
      ns.sendUdp(2, port);
      assert.equal(count(map), 4n, "detached by close()");
      assert.throws(() => link.pin("/sys/fs/bpf/x"), /not a BPF link/);
    } finally {
      sockets.close(fd);
    }
  });

  kernelTest("cgroup_skb egress on a temporary cgroup counts its processes' packets", () => {
    reset();
    const dir = `${cgroup2Root()}/tsbpf-${uniqueName("cg")}`;
    mkdirSync(dir);
    try {
      using prog = countingProgram(map, {
        type: "cgroup_skb",
        expectedAttachType: AttachType.CGROUP_INET_EGRESS,
        ret: 1 /* allow */,
      });
      using link = attachCgroup(prog, { cgroup: dir, attachType: "cgroup_inet_egress" });
      ns.sendUdp(3, 9, `${dir}/cgroup.procs`);
      assert.ok(count(map) >= 3n, `count ${count(map)}`);
      assert.equal(link.info().type, LinkType.CGROUP);
    } finally {
      rmdirSync(dir);
    }
  });

  kernelTest(
    "netfilter LOCAL_IN in the namespace counts arriving datagrams",
    { requires: ["netfilter"] },
    () => {
      reset();
      using prog = countingProgram(map, {
        type: "netfilter",
        expectedAttachType: AttachType.NETFILTER,
        ret: 1 /* NF_ACCEPT */,
      });
      using link = ns.inside(() =>
        attachNetfilter(prog, {
          protocol: NetfilterProtocol.IPV4,
          hook: NetfilterHook.LOCAL_IN,
          priority: -128,
        }),
      );
      ns.sendUdp(3, 9);
      assert.ok(count(map) >= 3n, `count ${count(map)}`);
      assert.equal(link.info().details.priority, -128);
    },
  );

  kernelTest("sk_msg on a sockmap: attached with PROG_ATTACH, detached on close", () => {
    using sockmap = KernelMap.create({
      type: "sockmap",
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: uniqueName("skm"),
    });
    using prog = KernelProgram.load({
      type: "sk_msg",
      license: "GPL",
      insns: new ProgramBuilder().mov(R0, 1).exit().build(),
      name: uniqueName("skmsg"),
    });
    const link = attachSockmap(prog, { map: sockmap, attachType: "sk_msg_verdict" });
    link.close();
    assert.throws(
      () =>
        progDetach({ target_fd: sockmap.fd, attach_bpf_fd: prog.fd, attach_type: AttachType.SK_MSG_VERDICT }),
      (e: unknown) => e instanceof SyscallError && e.errnoName === "ENOENT",
    );
  });
});
