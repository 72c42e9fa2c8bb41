import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { NotSupportedError } from "../../../src/errors.js";
import {
  attachKprobe,
  attachKretprobe,
  kprobeDefinition,
  kprobeRemoval,
} from "../../../src/kernel/links/index.js";
import { SyscallError } from "../../../src/kernel/errors.js";
import {
  AttachType,
  BpfCmd,
  LINK_CREATE_ATTR,
  LINK_INFO,
  decodeStruct,
  useSyscalls,
} from "../../../src/kernel/sys/index.js";
import { PERF_EVENT_ATTR, PerfIoctl, PerfType } from "../../../src/kernel/sys/perf-event-attr.js";
import { Tracefs } from "../../../src/kernel/tracefs.js";
import { FakeMemory, fakeSyscalls } from "../fake-syscalls.js";

/** A tracefs tree in a temporary directory whose kprobe_events acts like the kernel's. */
class FakeTracefs extends Tracefs {
  nextId = 1478;
  override append(relative: string, line: string): void {
    super.append(relative, line);
    if (relative !== "kprobe_events") return;
    const add = /^[pr]\d*:kprobes\/(\S+) \S+$/.exec(line);
    const del = /^-:kprobes\/(\S+)$/.exec(line);
    if (add) {
      mkdirSync(this.path(`events/kprobes/${add[1]}`), { recursive: true });
      writeFileSync(this.path(`events/kprobes/${add[1]}/id`), `${this.nextId++}\n`);
    } else if (del) {
      rmSync(this.path(`events/kprobes/${del[1]}`), { recursive: true, force: true });
    } else {
      throw new Error(`fake kprobe_events: bad line '${line}'`);
    }
  }
  lines(): string[] {
    return readFileSync(this.path("kprobe_events"), "utf8").split("\n").filter(Boolean);
  }
}

interface Call {
  readonly name: string;
  readonly args: readonly (number | bigint | string)[];
}

/** Fake syscalls recording perf_event_open / ioctl / close, with failures on demand. */
function recordingKernel(fail: { perfOpen?: number; setBpf?: number; linkCreate?: number } = {}) {
  const calls: Call[] = [];
  let perfAttr: Uint8Array | undefined;
  let fakeMemory: FakeMemory | undefined;
  const base = fakeSyscalls((cmd, attr, memory) => {
    fakeMemory = memory;
    if (cmd === BpfCmd.LINK_CREATE) {
      const a = decodeStruct(LINK_CREATE_ATTR, new Uint8Array(attr.buffer, attr.byteOffset, attr.byteLength));
      calls.push({ name: "LINK_CREATE", args: [a.prog_fd, a.target_fd, a.attach_type] });
      return fail.linkCreate ? -fail.linkCreate : 77;
    }
    if (cmd === BpfCmd.OBJ_GET_INFO_BY_FD) {
      const info = memory.at(attr.getBigUint64(8, true))!;
      new DataView(info.buffer, info.byteOffset).setUint32(LINK_INFO.fields.type.offset, 7, true);
      return 0;
    }
    return -22;
  });
  const sys = {
    ...base,
    perfEventOpen: (attr: Uint8Array, pid: number, cpu: number) => {
      perfAttr = attr.slice();
      calls.push({ name: "perf_event_open", args: [pid, cpu] });
      return fail.perfOpen ? -fail.perfOpen : 42;
    },
    ioctl: (fd: number, request: number, arg: number | bigint | Uint8Array) => {
      calls.push({ name: `ioctl ${PerfIoctl[request]}`, args: [fd, typeof arg === "object" ? "buf" : arg] });
      return request === PerfIoctl.SET_BPF && fail.setBpf ? -fail.setBpf : 0;
    },
    close: (fd: number) => {
      calls.push({ name: "close", args: [fd] });
      return 0;
    },
  };
  return { sys, calls, attr: () => decodeStruct(PERF_EVENT_ATTR, perfAttr!), memory: () => fakeMemory! };
}

describe("kprobe through tracefs kprobe_events (fake tracefs and syscalls)", () => {
  let dir: string;
  let tracefs: FakeTracefs;
  let restore: (() => void) | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tsbpf-tracefs-"));
    writeFileSync(join(dir, "kprobe_events"), "");
    tracefs = new FakeTracefs(dir);
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const noPmu = (): string => join(dir, "no-event-source");

  test("definition and removal strings", () => {
    assert.equal(kprobeDefinition("ev", "sys_bpf", false), "p:kprobes/ev sys_bpf");
    assert.equal(kprobeDefinition("ev", "sys_bpf", false, 16), "p:kprobes/ev sys_bpf+16");
    assert.equal(kprobeDefinition("ev", "sys_bpf", true), "r:kprobes/ev sys_bpf");
    assert.equal(kprobeDefinition("ev", "sys_bpf", true, 0, 16), "r16:kprobes/ev sys_bpf");
    assert.equal(kprobeRemoval("ev"), "-:kprobes/ev");
  });

  test("appends p:kprobes/EVENT FUNC, opens the event id, ENABLE then SET_BPF, removes it on close", () => {
    const k = recordingKernel();
    restore = useSyscalls(k.sys);
    const link = attachKprobe(9, { symbol: "sys_bpf", tracefs, eventSourceDir: noPmu() });
    const [def] = tracefs.lines();
    const m = /^p:kprobes\/(tsbpf_\d+_sys_bpf_\d+) sys_bpf$/.exec(def!);
    assert.ok(m, `definition line: ${def}`);
    const event = m[1]!;
    assert.ok(existsSync(join(dir, "events/kprobes", event, "id")));
    const attr = k.attr();
    assert.equal(attr.type, PerfType.TRACEPOINT);
    assert.equal(attr.config, 1478n);
    assert.equal(attr.size, PERF_EVENT_ATTR.size);
    assert.deepEqual(
      k.calls.map((c) => c.name),
      ["perf_event_open", "ioctl ENABLE", "ioctl SET_BPF"],
    );
    assert.deepEqual(k.calls[0]!.args, [-1, 0]);
    assert.deepEqual(k.calls[2]!.args, [42, 9]);
    assert.equal(link.kind, "kprobe");
    assert.throws(() => link.pin("/sys/fs/bpf/x"), NotSupportedError);

    link.close();
    link.close(); // idempotent
    assert.deepEqual(tracefs.lines(), [def, `-:kprobes/${event}`]);
    assert.equal(existsSync(join(dir, "events/kprobes", event)), false);
    assert.deepEqual(k.calls.slice(3), [{ name: "close", args: [42] }]);
  });

  test("kretprobe writes r[MAXACTIVE]: and offsets are +OFF", () => {
    const k = recordingKernel();
    restore = useSyscalls(k.sys);
    attachKretprobe(9, { symbol: "do_exit", maxActive: 8, tracefs, eventSourceDir: noPmu() }).close();
    attachKprobe(9, { symbol: "do_exit", offset: 4, tracefs, eventSourceDir: noPmu() }).close();
    const lines = tracefs.lines();
    assert.match(lines[0]!, /^r8:kprobes\/tsbpf_\d+_do_exit_\d+ do_exit$/);
    assert.match(lines[1]!, /^-:kprobes\/tsbpf_\d+_do_exit_\d+$/);
    assert.match(lines[2]!, /^p:kprobes\/tsbpf_\d+_do_exit_\d+ do_exit\+4$/);
    assert.equal(lines.length, 4);
  });

  test("the event is removed when perf_event_open fails", () => {
    const k = recordingKernel({ perfOpen: 2 });
    restore = useSyscalls(k.sys);
    assert.throws(
      () => attachKprobe(9, { symbol: "sys_bpf", tracefs, eventSourceDir: noPmu() }),
      (e: unknown) => e instanceof SyscallError && e.call === "perf_event_open" && /ENOENT/.test(e.message),
    );
    const lines = tracefs.lines();
    assert.equal(lines.length, 2);
    assert.equal(lines[1], kprobeRemoval(/kprobes\/(\S+)/.exec(lines[0]!)![1]!));
    assert.deepEqual(readdirSync(join(dir, "events/kprobes")), []);
  });

  test("the perf fd is closed and the event removed when SET_BPF fails", () => {
    const k = recordingKernel({ setBpf: 22 });
    restore = useSyscalls(k.sys);
    assert.throws(
      () => attachKprobe(9, { symbol: "sys_bpf", tracefs, eventSourceDir: noPmu() }),
      (e: unknown) => e instanceof SyscallError && e.call === "ioctl(PERF_EVENT_IOC_SET_BPF)",
    );
    assert.deepEqual(k.calls.at(-1), { name: "close", args: [42] });
    assert.equal(tracefs.lines().length, 2);
    assert.match(tracefs.lines()[1]!, /^-:kprobes\//);
  });

  test("no kprobe PMU and no kprobe_events: NotSupportedError naming CONFIG_KPROBES", () => {
    rmSync(join(dir, "kprobe_events"));
    assert.throws(
      () => attachKprobe(9, { symbol: "sys_bpf", tracefs, eventSourceDir: noPmu() }),
      (e: unknown) =>
        e instanceof NotSupportedError && /kernel built without kprobes \(CONFIG_KPROBES\)/.test(e.message),
    );
  });

  test("with a kprobe PMU: perf_event_open on it with the function name, then a perf_event link", () => {
    const pmuDir = join(dir, "event_source");
    mkdirSync(join(pmuDir, "kprobe/format"), { recursive: true });
    writeFileSync(join(pmuDir, "kprobe/type"), "6\n");
    writeFileSync(join(pmuDir, "kprobe/format/retprobe"), "config:0\n");
    const k = recordingKernel();
    restore = useSyscalls(k.sys);
    const link = attachKretprobe(9, { symbol: "vfs_read", eventSourceDir: pmuDir, tracefs });
    const attr = k.attr();
    assert.equal(attr.type, 6);
    assert.equal(attr.config, 1n);
    const name = k.memory().at(attr.kprobe_func)!;
    assert.equal(Buffer.from(name).toString("latin1"), "vfs_read\0");
    assert.deepEqual(
      k.calls.map((c) => c.name),
      ["perf_event_open", "LINK_CREATE", "ioctl ENABLE"],
    );
    assert.deepEqual(k.calls[1]!.args, [9, 42, AttachType.PERF_EVENT]);
    assert.deepEqual(tracefs.lines(), [], "the PMU path does not touch kprobe_events");
    link.close();
    assert.deepEqual(
      k.calls.slice(3).map((c) => c.args[0]),
      [77, 42],
    );
  });
});
