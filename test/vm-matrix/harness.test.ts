import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { guestDeath, qemuArgs } from "./boot.js";
import { compareReleases, newestPackage } from "./fetch.js";
import { KERNELS } from "./kernels.js";
import { parseArgs } from "./main.js";
import { testJob } from "./matrix.js";
import { parseRecords } from "./results.js";
import { lockResults } from "./project.js";
import { fileRecords } from "./run-files.js";

test("compareReleases orders Debian kernel releases numerically", () => {
  const releases = ["6.1.0-56-amd64", "6.1.0-9-amd64", "6.1.0-10-amd64"];
  assert.deepEqual(releases.sort(compareReleases), ["6.1.0-9-amd64", "6.1.0-10-amd64", "6.1.0-56-amd64"]);
  assert.ok(compareReleases("6.12.9+deb12-amd64", "6.12.117+deb12-amd64") < 0);
});

test("the kernel table's package patterns capture the release and reject other flavours", () => {
  const [k61, k612] = KERNELS;
  assert.equal(k61!.pkg!.exec("linux-image-6.1.0-56-amd64-unsigned")?.[1], "6.1.0-56-amd64");
  assert.equal(k61!.pkg!.test("linux-image-6.1.0-56-cloud-amd64-unsigned"), false);
  assert.equal(k612!.pkg!.exec("linux-image-6.12.117+deb12-amd64-unsigned")?.[1], "6.12.117+deb12-amd64");
  assert.equal(k612!.pkg!.test("linux-image-6.12.117+deb12-rt-amd64-unsigned"), false);
  assert.equal(newestPackage({ name: "host" }), undefined);
});

test("parseArgs: defaults to every kernel; --exec needs one guest kernel", () => {
  const all = parseArgs([]);
  assert.deepEqual(
    all.kernels.map((k) => k.name),
    KERNELS.map((k) => k.name),
  );
  assert.equal(all.timeoutSeconds, 900);
  const exec = parseArgs(["--kernel", "6.1", "--exec", "true"]);
  assert.equal(exec.exec, "true");
  assert.equal(exec.timeoutSeconds, 300);
  assert.throws(() => parseArgs(["--exec", "true"]), /exactly one --kernel/);
  assert.throws(() => parseArgs(["--kernel", "host", "--exec", "true"]), /not host/);
  assert.throws(() => parseArgs(["--kernel", "5.4"]), /unknown kernel '5.4'/);
  assert.throws(() => parseArgs(["--timeout", "soon"]), /positive number/);
  assert.throws(() => parseArgs(["--bogus"]), /unknown argument '--bogus'/);
});

test("the test job requires the kernel, probes features and quotes paths", () => {
  const job = testJob("/r/dist/kernel-matrix/6.1", ["dist/test/kernel/it's.test.js"], "/work/shared");
  assert.match(job, /^export TSBPF_KERNEL_TESTS=require NO_COLOR=1 TSBPF_SHARED='\/work\/shared'$/m);
  assert.match(
    job,
    /node dist\/test\/vm-matrix\/features\.js '\/r\/dist\/kernel-matrix\/6\.1\/features\.json'/,
  );
  assert.match(job, /node dist\/test\/vm-matrix\/run-files\.js --out '\/r\/dist\/kernel-matrix\/6\.1'/);
  assert.match(job, /'dist\/test\/kernel\/it'\\''s\.test\.js'/);
});

test("qemuArgs: TCG (never KVM), PVH vmlinux, 9p shares named on the kernel command line", () => {
  const args = qemuArgs({
    kernel: {
      release: "6.1.0-56-amd64",
      pkg: "p",
      version: "v",
      vmlinux: "/c/vmlinux",
      modulesCpio: "/c/m.cpio",
    },
    initrd: "/c/initrd.img",
    shares: [
      { tag: "hostroot", path: "/", readonly: true },
      { tag: "project", path: "/work/main", readonly: false },
    ],
    cwd: "/work/main",
    jobDir: "/work/main/dist/kernel-matrix/6.1",
    timeoutSeconds: 60,
    consoleLog: "/dev/null",
  });
  assert.equal(args[args.indexOf("-accel") + 1], "tcg,thread=multi");
  assert.ok(!args.includes("-enable-kvm"));
  assert.equal(args[args.indexOf("-kernel") + 1], "/c/vmlinux");
  const append = args[args.indexOf("-append") + 1]!;
  assert.match(append, /tsbpf\.mounts=hostroot:\/:ro,project:\/work\/main:rw /);
  assert.match(append, /tsbpf\.cwd=\/work\/main /);
  assert.match(append, /tsbpf\.job=\/work\/main\/dist\/kernel-matrix\/6\.1/);
  assert.ok(
    args.includes(
      "local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap,id=hostroot,readonly=on",
    ),
  );
});

test("fileRecords: a file that fails without a failing test yields one failure naming why", () => {
  const result = { file: "dist/test/kernel/x.test.js", exitCode: 1, seconds: 0.5, timedOut: false };
  const crashed = fileRecords(result, "", "SyntaxError: Unexpected end of input\n\nNode.js v20\n");
  assert.equal(crashed.length, 1);
  assert.equal(crashed[0]!.status, "fail");
  assert.match(
    crashed[0]!.reason!,
    /^exit code 1 without a failing test: SyntaxError: Unexpected end of input \| Node\.js v20$/,
  );
  const timedOut = fileRecords({ ...result, exitCode: 128, timedOut: true }, "", "");
  assert.match(timedOut[0]!.reason!, /per-file timeout/);
  const failing = JSON.stringify({ status: "fail", kind: "test", file: result.file, path: ["t"], ms: 1 });
  assert.equal(fileRecords(result, `${failing}\n{"torn`, "").length, 1, "a reported failure is enough");
  assert.deepEqual(fileRecords({ ...result, exitCode: 0 }, "", ""), []);
});

test("guestDeath names the oops or panic of a guest that died, else its last console line", () => {
  const tail = [
    "[    1.95] smpboot: x86: Booting SMP configuration:",
    "[    1.958139] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI",
    "[    1.962124] Kernel panic - not syncing: Fatal exception in interrupt",
  ];
  assert.equal(guestDeath(tail), "Oops: int3: 0000 [#1] PREEMPT SMP NOPTI");
  assert.equal(guestDeath(tail.slice(2)), "Kernel panic - not syncing: Fatal exception in interrupt");
  assert.equal(guestDeath(["[    0.1] Run /init as init process"]), "Run /init as init process");
  assert.equal(guestDeath([]), "no console output");
});

test("the reporter writes one record per test, with the features a passing kernelTest required", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-reporter-"));
  try {
    const file = join(dir, "sample.test.mjs");
    writeFileSync(
      file,
      [
        'import { describe, test } from "node:test";',
        'describe("suite", () => {',
        '  test("needs two", (t) => { t.diagnostic("requires kprobe, tcx"); });',
        '  test("plain", (t) => { t.diagnostic("something else"); });',
        "});",
        'test("skipped", { skip: "requires lsm (no)" }, () => {});',
        'test("failing", (t) => { t.diagnostic("requires kprobe"); throw new Error("boom"); });',
        "",
      ].join("\n"),
    );
    const reporter = fileURLToPath(new URL("./reporter.js", import.meta.url));
    const out = join(dir, "out.jsonl");
    spawnSync(process.execPath, [`--test-reporter=${reporter}`, `--test-reporter-destination=${out}`, file], {
      // without NODE_TEST_CONTEXT: the child would report to this test runner, not to the file
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, TSBPF_MATRIX_FILE: "dist/test/x.test.js" },
    });
    const records = parseRecords(readFileSync(out, "utf8"));
    const brief = records.map((r) => [r.path.join(" > "), r.status, r.requires]);
    assert.deepEqual(brief, [
      ["suite > needs two", "pass", ["kprobe", "tcx"]],
      ["suite > plain", "pass", undefined],
      ["suite", "pass", undefined],
      ["skipped", "skip", undefined],
      ["failing", "fail", ["kprobe"]],
    ]);
    assert.equal(records[3]!.reason, "requires lsm (no)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lockResults: one run per checkout; a lock left by a dead run is taken over", () => {
  const root = mkdtempSync(join(tmpdir(), "tsbpf-lock-"));
  try {
    const release = lockResults(root);
    const file = join(root, "dist", "kernel-matrix", ".lock");
    assert.equal(readFileSync(file, "utf8"), `${process.pid}\n`);
    // another live process holds it (pid 1 always exists)
    writeFileSync(file, "1\n");
    assert.throws(() => lockResults(root, 4242), /another kernel matrix run \(pid 1\) is using .*kill 1/);
    // a dead one does not
    writeFileSync(file, "999999999\n");
    const again = lockResults(root, 4242);
    assert.equal(readFileSync(file, "utf8"), "4242\n");
    release(); // not ours any more: left alone
    assert.equal(readFileSync(file, "utf8"), "4242\n");
    again();
    assert.throws(() => readFileSync(file), /ENOENT/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
