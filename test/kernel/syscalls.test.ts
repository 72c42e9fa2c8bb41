import assert from "node:assert/strict";
import { KernelMap } from "../../src/kernel/index.js";
import { EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE, syscalls } from "../../src/kernel/sys/index.js";
import { describeKernel, kernelTest, uniqueName } from "../helpers/kernel-gate.js";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;

describeKernel("the libc syscall layer beyond bpf(2)", () => {
  kernelTest("mmap + view of a ring buffer's consumer page, epoll on it, munmap", async () => {
    const sys = syscalls();
    const rb = KernelMap.create({
      type: "ringbuf",
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
      name: uniqueName("tsbpf_rb"),
    });
    const epfd = sys.epollCreate1(0);
    assert.ok(epfd >= 0, `epoll_create1: ${epfd}`);
    try {
      const page = sys.mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, rb.fd, 0);
      assert.ok(page > 0n, `mmap: ${page}`);
      try {
        const consumer = new DataView(sys.view(page, 4096));
        assert.equal(consumer.getBigUint64(0, true), 0n, "consumer position starts at 0");
        consumer.setBigUint64(0, 0n, true);
      } finally {
        assert.equal(sys.munmap(page, 4096), 0);
      }
      assert.equal(sys.epollCtl(epfd, EPOLL_CTL_ADD, rb.fd, EPOLLIN, 0x1234n), 0);
      const events = new Uint8Array(EPOLL_EVENT_SIZE * 4);
      assert.equal(sys.epollWait(epfd, events, 4, 0), 0, "an empty ring buffer is not readable");
      assert.equal(await sys.epollWaitAsync(epfd, events, 4, 20), 0, "async wait times out empty");
      assert.equal(EPOLL_EVENT_DATA_OFFSET, process.arch === "x64" ? 4 : 8);
      // A bad mapping offset fails with -errno rather than a bogus address.
      assert.ok(sys.mmap(4096, PROT_READ, MAP_SHARED, rb.fd, 123) < 0n);
    } finally {
      sys.close(epfd);
      rb.close();
    }
  });

  kernelTest("perf_event_open of a software event, and errors as negative errno", () => {
    const sys = syscalls();
    const attr = new Uint8Array(136); // PERF_ATTR_SIZE_VER8
    const v = new DataView(attr.buffer);
    v.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    v.setUint32(4, attr.byteLength, true); // size
    v.setBigUint64(8, 9n, true); // PERF_COUNT_SW_DUMMY
    v.setBigUint64(40, 1n, true); // disabled
    const fd = sys.perfEventOpen(attr, 0, -1, -1, 8 /* PERF_FLAG_FD_CLOEXEC */);
    assert.ok(fd >= 0, `perf_event_open: ${fd}`);
    assert.equal(sys.close(fd), 0);
    assert.equal(sys.close(fd), -9, "closing twice: -EBADF");
    assert.equal(sys.ioctl(-1, 0x2400 /* PERF_EVENT_IOC_ENABLE */, 0), -9);
  });
});
