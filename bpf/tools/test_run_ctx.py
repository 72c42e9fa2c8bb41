#!/usr/bin/env python3
"""BPF_PROG_TEST_RUN with ctx_in only, for syscall and raw_tracepoint programs.

bpftool 7.1 always passes a ctx_out buffer along with ctx_in, which those program types
reject with EINVAL. Usage: test_run_ctx.py PINNED_PROG CTX_FILE -> prints "Return value: N".
"""
import ctypes
import os
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_TEST_RUN = 10
BPF_OBJ_GET = 7

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_BPF, cmd, buf, 128)
    if r < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return r, buf


path = ctypes.create_string_buffer(sys.argv[1].encode())
fd, _ = bpf(BPF_OBJ_GET, struct.pack("=QII", ctypes.addressof(path), 0, 0))
ctx = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else b""
ctx_buf = ctypes.create_string_buffer(ctx, max(len(ctx), 1))
# struct test: prog_fd, retval, data_size_in, data_size_out, data_in, data_out, repeat, duration,
#              ctx_size_in, ctx_size_out, ctx_in, ctx_out, flags, cpu, batch_size
attr = struct.pack("=IIIIQQIIIIQQIII", fd, 0, 0, 0, 0, 0, 0, 0, len(ctx), 0,
                   ctypes.addressof(ctx_buf) if ctx else 0, 0, 0, 0, 0)
_, out = bpf(BPF_PROG_TEST_RUN, attr)
print("Return value: %d" % struct.unpack_from("=I", out.raw, 4)[0])
os.close(fd)
