// SPDX-License-Identifier: GPL-2.0
/* iofsstat: per-process, per-file read and write counts and bytes (the guides' iofsstat), from
 * the syscalls:sys_enter/exit_{read,write,pread64,pwrite64,readv,writev,preadv,pwritev}
 * tracepoints: the file is found from the fd in the task's file table at entry, the bytes are
 * the syscall's return value. Regular files only unless all_files is set. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define MAX_DEPTH 8
#define NAME_LEN 32
#define S_IFMT 00170000
#define S_IFREG 0100000

struct file_key {
	__u32 pid;
	__u32 dev;
	__u64 ino;
};

struct file_stat {
	__u64 rd_cnt;
	__u64 rd_bytes;
	__u64 wr_cnt;
	__u64 wr_bytes;
	__u32 mode;
	__u32 depth;	/* path components stored, innermost first */
	char comm[16];
	char names[MAX_DEPTH][NAME_LEN];
};

struct pending {
	struct file *file;
	__u32 write;
};

const volatile __u32 targ_tgid = 0;
const volatile bool all_files = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct file_key);
	__type(value, struct file_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_stat);
} scratch SEC(".maps");

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline int enter(struct trace_event_raw_sys_enter *ctx, __u32 write)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending p = {};

	if (targ_tgid && (id >> 32) != targ_tgid)
		return 0;
	p.file = fd_file((int)ctx->args[0]);
	if (!p.file)
		return 0;
	p.write = write;
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return enter(ctx, 0);
}

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return enter(ctx, 1);
}

SEC("tracepoint/syscalls/sys_exit_read")
int exit_rw(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct file_key key = {};
	struct file_stat *st, *init;
	struct pending *p;
	struct inode *inode;
	struct file *file;
	struct dentry *d, *parent;
	long ret = ctx->ret;
	__u32 mode;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	if (ret <= 0)
		goto out;
	file = p->file;	/* a plain load: CO-RE must not see struct pending */
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode);
	if (!all_files && (mode & S_IFMT) != S_IFREG)
		goto out;
	key.pid = id >> 32;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		init = bpf_map_lookup_elem(&scratch, &zero);
		if (!init)
			goto out;
		init->rd_cnt = init->rd_bytes = init->wr_cnt = init->wr_bytes = 0;
		init->mode = mode;
		bpf_get_current_comm(&init->comm, sizeof(init->comm));
		d = BPF_CORE_READ(file, f_path.dentry);
		init->depth = 0;
		for (int i = 0; i < MAX_DEPTH; i++) {
			bpf_probe_read_kernel_str(&init->names[i], NAME_LEN, BPF_CORE_READ(d, d_name.name));
			init->depth = i + 1;
			parent = BPF_CORE_READ(d, d_parent);
			if (!parent || parent == d)
				break;
			d = parent;
		}
		bpf_map_update_elem(&stats, &key, init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats, &key);
		if (!st)
			goto out;
	}
	if (p->write) {
		__sync_fetch_and_add(&st->wr_cnt, 1);
		__sync_fetch_and_add(&st->wr_bytes, ret);
	} else {
		__sync_fetch_and_add(&st->rd_cnt, 1);
		__sync_fetch_and_add(&st->rd_bytes, ret);
	}
out:
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
