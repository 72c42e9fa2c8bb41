import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { AtomicOp, Size } from "../../../src/isa/opcodes.js";
import { ProgramBuilder, R0, R1, R2, R10 } from "../../../src/isa/builder.js";
import { KernelMap } from "../../../src/kernel/map.js";
import { KernelProgram, type ProgramSpec } from "../../../src/kernel/program.js";
import { uniqueName } from "../../helpers/kernel-gate.js";

/** A one-slot u64 array map to count program runs. */
export function counterMap(): KernelMap {
  return KernelMap.create({
    type: "array",
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: uniqueName("cnt"),
  });
}

/** The counter's value. */
export function count(map: KernelMap): bigint {
  const v = map.lookup(new Uint8Array(4));
  return v ? new DataView(v.buffer, v.byteOffset).getBigUint64(0, true) : 0n;
}

/** Instructions that add 1 to slot 0 of `map` then return `ret`. */
export function countingInsns(map: KernelMap, ret = 0): ProgramBuilder {
  return new ProgramBuilder()
    .st(Size.W, R10, -4, 0)
    .ldMapFd(R1, map.fd)
    .mov(R2, R10)
    .add(R2, -4)
    .call(1) // bpf_map_lookup_elem
    .jeq(R0, 0, "out")
    .mov(R1, 1)
    .atomic(Size.DW, AtomicOp.ADD, R0, R1, 0)
    .label("out")
    .mov(R0, ret)
    .exit();
}

/** Loads a program that counts its runs into `map`. */
export function countingProgram(
  map: KernelMap,
  spec: Omit<ProgramSpec, "insns" | "license"> & { ret?: number },
): KernelProgram {
  const { ret, ...rest } = spec;
  return KernelProgram.load({
    ...rest,
    name: rest.name ?? uniqueName("count"),
    license: "GPL",
    insns: countingInsns(map, ret).build(),
  });
}

/** Runs `cmd` and returns its stdout. */
export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" });

interface Koffi {
  load(path: string): { func(definition: string): (...args: unknown[]) => unknown };
}
let setnsFn: ((fd: number, type: number) => unknown) | undefined;
const CLONE_NEWNET = 0x40000000;

/** Two network namespaces joined by a veth pair, made for one test. */
export interface TestNetns {
  /** The namespace the programs attach in (holds veth-b, 10.99.0.2). */
  readonly name: string;
  /** The peer namespace (holds veth-a, 10.99.0.1), where traffic comes from. */
  readonly peer: string;
  /** ifindex of veth-b inside `name`. */
  readonly ifindex: number;
  /** Runs `fn` with this thread in `name` (links and sockets made there stay valid after). */
  inside<T>(fn: () => T): T;
  /** Sends `n` UDP datagrams from the peer namespace to 10.99.0.2:port (a child node process). */
  sendUdp(n: number, port: number, cgroupProcs?: string): void;
  remove(): void;
}

/**
 * Creates netns tsbpf-<unique> with veth-b (10.99.0.2/24) and its peer namespace with veth-a
 * (10.99.0.1/24); nothing is added to the host's namespace. remove() deletes both.
 */
export function createNetns(): TestNetns {
  const name = `tsbpf-${uniqueName("ns")}`;
  const peer = `${name}-p`;
  sh("ip", ["netns", "add", name]);
  try {
    sh("ip", ["netns", "add", peer]);
    sh("ip", ["-n", peer, "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b", "netns", name]);
    sh("ip", ["-n", peer, "addr", "add", "10.99.0.1/24", "dev", "veth-a"]);
    sh("ip", ["-n", name, "addr", "add", "10.99.0.2/24", "dev", "veth-b"]);
    sh("ip", ["-n", peer, "link", "set", "veth-a", "up"]);
    sh("ip", ["-n", name, "link", "set", "veth-b", "up"]);
    sh("ip", ["-n", name, "link", "set", "lo", "up"]);
  } catch (e) {
    sh("ip", ["netns", "del", name]);
    spawnSync("ip", ["netns", "del", peer]);
    throw e;
  }
  const ifindex = Number(/^(\d+):/.exec(sh("ip", ["-n", name, "-o", "link", "show", "dev", "veth-b"]))![1]);
  return {
    name,
    peer,
    ifindex,
    inside<T>(fn: () => T): T {
      setnsFn ??= (createRequire(import.meta.url)("koffi") as Koffi)
        .load("libc.so.6")
        .func("int setns(int fd, int nstype)") as (fd: number, type: number) => unknown;
      const home = openSync("/proc/self/ns/net", "r");
      const target = openSync(`/var/run/netns/${name}`, "r");
      try {
        if (Number(setnsFn(target, CLONE_NEWNET)) !== 0) throw new Error(`setns into ${name} failed`);
        try {
          return fn();
        } finally {
          if (Number(setnsFn(home, CLONE_NEWNET)) !== 0)
            throw new Error("setns back to the host namespace failed");
        }
      } finally {
        closeSync(home);
        closeSync(target);
      }
    },
    sendUdp(n: number, port: number, cgroupProcs?: string): void {
      const script = `
        const s = require("dgram").createSocket("udp4");
        let left = Number(process.argv[1]);
        const next = () => left-- > 0 ? s.send("tsbpf", Number(process.argv[2]), "10.99.0.2", next) : s.close();
        next();`;
      const command = ["ip", "netns", "exec", peer, process.execPath, "-e", script, String(n), String(port)];
      // ip netns exec remounts /sys: join the cgroup first, the children inherit it.
      if (cgroupProcs) sh("sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroupProcs, ...command]);
      else sh(command[0]!, command.slice(1));
    },
    remove(): void {
      let first: unknown;
      for (const ns of [name, peer]) {
        try {
          sh("ip", ["netns", "del", ns]);
        } catch (e) {
          first ??= e;
        }
      }
      if (first) throw first;
    },
  };
}
