import { SyscallError } from "../errors.js";
import {
  BTF_LOAD_ATTR,
  GET_ID_ATTR,
  ITER_CREATE_ATTR,
  LINK_CREATE_ATTR,
  LINK_DETACH_ATTR,
  LINK_UPDATE_ATTR,
  MAP_BATCH_ATTR,
  MAP_CREATE_ATTR,
  MAP_ELEM_ATTR,
  OBJ_ATTR,
  OBJ_INFO_ATTR,
  PROG_ATTACH_ATTR,
  PROG_BIND_MAP_ATTR,
  PROG_LOAD_ATTR,
  PROG_QUERY_ATTR,
  PROG_TEST_RUN_ATTR,
  RAW_TRACEPOINT_OPEN_ATTR,
  ENABLE_STATS_ATTR,
  TASK_FD_QUERY_ATTR,
  TOKEN_CREATE_ATTR,
} from "./attrs.js";
import { BpfCmd } from "./constants.js";
import { encodeStruct, readField, type Encodable, type FieldSpec, type Layout } from "./layout.js";
import { syscalls } from "./syscalls.js";

/**
 * One typed wrapper per bpf(2) command. Each encodes its union bpf_attr from the layout table
 * (attrs.ts), calls the syscall layer in use, and throws SyscallError naming the command.
 * Pointer fields take buffers or strings; the wrappers keep them alive during the call.
 */

export const ENOENT = 2;
export const EAGAIN = 11;
export const ENOSPC = 28;

/** The raw result of a bpf(2) call: its return value (or -errno) and the attr after the call. */
export interface BpfResult {
  readonly ret: number;
  readonly attr: Uint8Array;
}

/** Encodes `values` for `layout` (resolving buffers and strings to addresses) and calls bpf(2). */
export function bpfRaw<L extends Layout>(cmd: BpfCmd, layout: L, values: Encodable<L>): BpfResult {
  const sys = syscalls();
  const plain: Record<string, number | bigint | string | Uint8Array | null | undefined> = {};
  const keep: Uint8Array[] = [];
  const fields = layout.fields as Record<string, FieldSpec>;
  for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
    if (fields[name]?.kind === "ptr" && (value instanceof Uint8Array || typeof value === "string")) {
      const bytes = typeof value === "string" ? cString(value) : value;
      keep.push(bytes);
      plain[name] = bytes.byteLength === 0 ? 0n : sys.addressOf(bytes);
    } else {
      plain[name] = value as number | bigint | string | Uint8Array | null | undefined;
    }
  }
  const attr = encodeStruct(layout, plain);
  const ret = sys.bpf(cmd, attr);
  keep.length = 0;
  return { ret, attr };
}

/** Like bpfRaw, but throws SyscallError on failure and returns the non-negative result. */
export function bpfCall<L extends Layout>(
  cmd: BpfCmd,
  layout: L,
  values: Encodable<L>,
  context?: string,
): BpfResult {
  const result = bpfRaw(cmd, layout, values);
  if (result.ret < 0) throw new SyscallError(`BPF_${BpfCmd[cmd]}`, -result.ret, { context });
  return result;
}

/** Reads an output field of an attr returned by bpfRaw/bpfCall. */
export function attrField<L extends Layout>(
  layout: L,
  attr: Uint8Array,
  field: keyof L["fields"] & string,
): number {
  const spec = (layout.fields as Record<string, FieldSpec>)[field]!;
  return Number(readField(new DataView(attr.buffer, attr.byteOffset, attr.byteLength), spec));
}

/** A NUL-terminated UTF-8 copy of `s`. */
export function cString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Calls that return -ENOENT to mean "nothing": false instead of an error. */
function found(cmd: BpfCmd, result: BpfResult, context?: string): boolean {
  if (result.ret >= 0) return true;
  if (result.ret === -ENOENT) return false;
  throw new SyscallError(`BPF_${BpfCmd[cmd]}`, -result.ret, { context });
}

// --- maps -------------------------------------------------------------------------------------

/** BPF_MAP_CREATE: returns the new map's fd. */
export function mapCreate(attr: Encodable<typeof MAP_CREATE_ATTR>, context?: string): number {
  return bpfCall(BpfCmd.MAP_CREATE, MAP_CREATE_ATTR, attr, context).ret;
}

/** BPF_MAP_LOOKUP_ELEM into `value`; false when the key is absent. */
export function mapLookupElem(mapFd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
  const r = bpfRaw(BpfCmd.MAP_LOOKUP_ELEM, MAP_ELEM_ATTR, { map_fd: mapFd, key, value, flags });
  return found(BpfCmd.MAP_LOOKUP_ELEM, r);
}

/** BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST (| BPF_F_LOCK). */
export function mapUpdateElem(mapFd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  bpfCall(BpfCmd.MAP_UPDATE_ELEM, MAP_ELEM_ATTR, { map_fd: mapFd, key, value, flags });
}

/** BPF_MAP_DELETE_ELEM; false when the key is absent. */
export function mapDeleteElem(mapFd: number, key: Uint8Array, flags = 0): boolean {
  return found(
    BpfCmd.MAP_DELETE_ELEM,
    bpfRaw(BpfCmd.MAP_DELETE_ELEM, MAP_ELEM_ATTR, { map_fd: mapFd, key, flags }),
  );
}

/** BPF_MAP_GET_NEXT_KEY: the key after `key` (the first key when null) into `next`; false at the end. */
export function mapGetNextKey(mapFd: number, key: Uint8Array | null, next: Uint8Array): boolean {
  const r = bpfRaw(BpfCmd.MAP_GET_NEXT_KEY, MAP_ELEM_ATTR, { map_fd: mapFd, key, next_key: next });
  return found(BpfCmd.MAP_GET_NEXT_KEY, r);
}

/** BPF_MAP_LOOKUP_AND_DELETE_ELEM (key null for queues and stacks); false when absent or empty. */
export function mapLookupAndDeleteElem(
  mapFd: number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags = 0,
): boolean {
  const r = bpfRaw(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, MAP_ELEM_ATTR, { map_fd: mapFd, key, value, flags });
  return found(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, r);
}

/** BPF_MAP_FREEZE: makes the map read-only for userspace. */
export function mapFreeze(mapFd: number): void {
  bpfCall(BpfCmd.MAP_FREEZE, MAP_ELEM_ATTR, { map_fd: mapFd });
}

/** Arguments of the BPF_MAP_*_BATCH commands. */
export interface BatchArgs {
  mapFd: number;
  /** Opaque position from the previous call's outBatch (null to start). */
  inBatch?: Uint8Array | null;
  /** Receives the opaque position to continue from (lookup batches). */
  outBatch?: Uint8Array | null;
  keys?: Uint8Array | null;
  values?: Uint8Array | null;
  /** Number of elements the buffers hold. */
  count: number;
  elemFlags?: number;
  flags?: number;
}

/** Result of a batch call: elements processed, and whether the map has no more (lookups). */
export interface BatchResult {
  readonly count: number;
  readonly done: boolean;
}

function batch(cmd: BpfCmd, args: BatchArgs): BatchResult {
  const r = bpfRaw(cmd, MAP_BATCH_ATTR, {
    map_fd: args.mapFd,
    in_batch: args.inBatch ?? null,
    out_batch: args.outBatch ?? null,
    keys: args.keys ?? null,
    values: args.values ?? null,
    count: args.count,
    elem_flags: args.elemFlags ?? 0,
    flags: args.flags ?? 0,
  });
  const count = attrField(MAP_BATCH_ATTR, r.attr, "count");
  if (r.ret >= 0) return { count, done: false };
  // ENOENT ends a lookup batch; the elements returned with it are valid.
  if (r.ret === -ENOENT && (cmd === BpfCmd.MAP_LOOKUP_BATCH || cmd === BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH)) {
    return { count, done: true };
  }
  throw new SyscallError(`BPF_${BpfCmd[cmd]}`, -r.ret, { context: `after ${count} element(s)` });
}

/** BPF_MAP_LOOKUP_BATCH. */
export const mapLookupBatch = (args: BatchArgs): BatchResult => batch(BpfCmd.MAP_LOOKUP_BATCH, args);
/** BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
export const mapLookupAndDeleteBatch = (args: BatchArgs): BatchResult =>
  batch(BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH, args);
/** BPF_MAP_UPDATE_BATCH. */
export const mapUpdateBatch = (args: BatchArgs): BatchResult => batch(BpfCmd.MAP_UPDATE_BATCH, args);
/** BPF_MAP_DELETE_BATCH. */
export const mapDeleteBatch = (args: BatchArgs): BatchResult => batch(BpfCmd.MAP_DELETE_BATCH, args);

// --- programs ---------------------------------------------------------------------------------

/** BPF_PROG_LOAD without error handling: the caller reads the log and log_true_size. */
export function progLoadRaw(attr: Encodable<typeof PROG_LOAD_ATTR>): BpfResult {
  return bpfRaw(BpfCmd.PROG_LOAD, PROG_LOAD_ATTR, attr);
}

/** Inputs of BPF_PROG_TEST_RUN. */
export interface TestRunArgs {
  progFd: number;
  dataIn?: Uint8Array | null;
  dataOut?: Uint8Array | null;
  ctxIn?: Uint8Array | null;
  ctxOut?: Uint8Array | null;
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

/** Outputs of BPF_PROG_TEST_RUN. */
export interface TestRunResult {
  readonly retval: number;
  /** Average ns per run. */
  readonly duration: number;
  readonly dataSizeOut: number;
  readonly ctxSizeOut: number;
}

/** BPF_PROG_TEST_RUN (BPF_PROG_RUN). */
export function progTestRun(args: TestRunArgs): TestRunResult {
  const { attr } = bpfCall(BpfCmd.PROG_TEST_RUN, PROG_TEST_RUN_ATTR, {
    prog_fd: args.progFd,
    data_in: args.dataIn ?? null,
    data_size_in: args.dataIn?.byteLength ?? 0,
    data_out: args.dataOut ?? null,
    data_size_out: args.dataOut?.byteLength ?? 0,
    ctx_in: args.ctxIn ?? null,
    ctx_size_in: args.ctxIn?.byteLength ?? 0,
    ctx_out: args.ctxOut ?? null,
    ctx_size_out: args.ctxOut?.byteLength ?? 0,
    repeat: args.repeat ?? 0,
    flags: args.flags ?? 0,
    cpu: args.cpu ?? 0,
    batch_size: args.batchSize ?? 0,
  });
  return {
    retval: attrField(PROG_TEST_RUN_ATTR, attr, "retval"),
    duration: attrField(PROG_TEST_RUN_ATTR, attr, "duration"),
    dataSizeOut: attrField(PROG_TEST_RUN_ATTR, attr, "data_size_out"),
    ctxSizeOut: attrField(PROG_TEST_RUN_ATTR, attr, "ctx_size_out"),
  };
}

/** BPF_PROG_BIND_MAP: keeps `mapFd` alive as long as the program. */
export function progBindMap(progFd: number, mapFd: number, flags = 0): void {
  bpfCall(BpfCmd.PROG_BIND_MAP, PROG_BIND_MAP_ATTR, { prog_fd: progFd, map_fd: mapFd, flags });
}

// --- pinning ----------------------------------------------------------------------------------

/** BPF_OBJ_PIN: pins `fd` at `path` (inside a bpffs mount). */
export function objPin(fd: number, path: string): void {
  bpfCall(BpfCmd.OBJ_PIN, OBJ_ATTR, { pathname: path, bpf_fd: fd }, `pin ${path}`);
}

/** BPF_OBJ_GET: opens the object pinned at `path` (file_flags BPF_F_RDONLY / BPF_F_WRONLY). */
export function objGet(path: string, fileFlags = 0): number {
  return bpfCall(BpfCmd.OBJ_GET, OBJ_ATTR, { pathname: path, file_flags: fileFlags }, `open pinned ${path}`)
    .ret;
}

// --- ids --------------------------------------------------------------------------------------

function nextId(cmd: BpfCmd, startId: number): number | undefined {
  const r = bpfRaw(cmd, GET_ID_ATTR, { start_id: startId });
  return found(cmd, r) ? attrField(GET_ID_ATTR, r.attr, "next_id") : undefined;
}

/** BPF_PROG_GET_NEXT_ID: the first program id above `startId`, undefined after the last. */
export const progGetNextId = (startId: number): number | undefined =>
  nextId(BpfCmd.PROG_GET_NEXT_ID, startId);
/** BPF_MAP_GET_NEXT_ID. */
export const mapGetNextId = (startId: number): number | undefined => nextId(BpfCmd.MAP_GET_NEXT_ID, startId);
/** BPF_LINK_GET_NEXT_ID. */
export const linkGetNextId = (startId: number): number | undefined =>
  nextId(BpfCmd.LINK_GET_NEXT_ID, startId);
/** BPF_BTF_GET_NEXT_ID. */
export const btfGetNextId = (startId: number): number | undefined => nextId(BpfCmd.BTF_GET_NEXT_ID, startId);

function fdById(cmd: BpfCmd, id: number, openFlags: number): number {
  return bpfCall(cmd, GET_ID_ATTR, { start_id: id, open_flags: openFlags }, `id ${id}`).ret;
}

/** BPF_PROG_GET_FD_BY_ID. */
export const progGetFdById = (id: number, openFlags = 0): number =>
  fdById(BpfCmd.PROG_GET_FD_BY_ID, id, openFlags);
/** BPF_MAP_GET_FD_BY_ID. */
export const mapGetFdById = (id: number, openFlags = 0): number =>
  fdById(BpfCmd.MAP_GET_FD_BY_ID, id, openFlags);
/** BPF_LINK_GET_FD_BY_ID. */
export const linkGetFdById = (id: number, openFlags = 0): number =>
  fdById(BpfCmd.LINK_GET_FD_BY_ID, id, openFlags);
/** BPF_BTF_GET_FD_BY_ID. */
export const btfGetFdById = (id: number, openFlags = 0): number =>
  fdById(BpfCmd.BTF_GET_FD_BY_ID, id, openFlags);

/** BPF_OBJ_GET_INFO_BY_FD: fills `info` (a bpf_*_info struct); returns the length the kernel wrote. */
export function objGetInfoByFd(fd: number, info: Uint8Array): number {
  const { attr } = bpfCall(BpfCmd.OBJ_GET_INFO_BY_FD, OBJ_INFO_ATTR, {
    bpf_fd: fd,
    info_len: info.byteLength,
    info,
  });
  return attrField(OBJ_INFO_ATTR, attr, "info_len");
}

// --- BTF --------------------------------------------------------------------------------------

/** BPF_BTF_LOAD without error handling: the caller reads the log and btf_log_true_size. */
export function btfLoadRaw(attr: Encodable<typeof BTF_LOAD_ATTR>): BpfResult {
  return bpfRaw(BpfCmd.BTF_LOAD, BTF_LOAD_ATTR, attr);
}

// --- attachment -------------------------------------------------------------------------------

/** BPF_LINK_CREATE: returns the link's fd. */
export function linkCreate(attr: Encodable<typeof LINK_CREATE_ATTR>, context?: string): number {
  return bpfCall(BpfCmd.LINK_CREATE, LINK_CREATE_ATTR, attr, context).ret;
}

/** BPF_LINK_UPDATE: replaces the program of a link (old_prog_fd with BPF_F_REPLACE). */
export function linkUpdate(attr: Encodable<typeof LINK_UPDATE_ATTR>): void {
  bpfCall(BpfCmd.LINK_UPDATE, LINK_UPDATE_ATTR, attr);
}

/** BPF_LINK_DETACH: detaches a link without closing it. */
export function linkDetach(linkFd: number): void {
  bpfCall(BpfCmd.LINK_DETACH, LINK_DETACH_ATTR, { link_fd: linkFd });
}

/** BPF_RAW_TRACEPOINT_OPEN: attaches a raw_tp (name) or tp_btf/fentry-like program (name null). */
export function rawTracepointOpen(name: string | null, progFd: number, cookie: bigint | number = 0): number {
  return bpfCall(
    BpfCmd.RAW_TRACEPOINT_OPEN,
    RAW_TRACEPOINT_OPEN_ATTR,
    { name, prog_fd: progFd, cookie },
    name ? `raw tracepoint ${name}` : undefined,
  ).ret;
}

/** BPF_PROG_ATTACH (cgroups, sockmaps, flow dissector, lirc…). */
export function progAttach(attr: Encodable<typeof PROG_ATTACH_ATTR>, context?: string): void {
  bpfCall(BpfCmd.PROG_ATTACH, PROG_ATTACH_ATTR, attr, context);
}

/** BPF_PROG_DETACH. */
export function progDetach(attr: Encodable<typeof PROG_ATTACH_ATTR>, context?: string): void {
  bpfCall(BpfCmd.PROG_DETACH, PROG_ATTACH_ATTR, attr, context);
}

/** Result of BPF_PROG_QUERY. */
export interface ProgQueryResult {
  readonly attachFlags: number;
  readonly count: number;
  readonly revision: bigint;
}

/** BPF_PROG_QUERY: program ids attached to a target (fill prog_ids with a u32 array of `count`). */
export function progQuery(attr: Encodable<typeof PROG_QUERY_ATTR>): ProgQueryResult {
  const { attr: out } = bpfCall(BpfCmd.PROG_QUERY, PROG_QUERY_ATTR, attr);
  const view = new DataView(out.buffer);
  return {
    attachFlags: attrField(PROG_QUERY_ATTR, out, "attach_flags"),
    count: attrField(PROG_QUERY_ATTR, out, "count"),
    revision: readField(view, PROG_QUERY_ATTR.fields.revision) as bigint,
  };
}

/** BPF_ENABLE_STATS: run-time statistics stay enabled while the returned fd is open. */
export function enableStats(type: number): number {
  return bpfCall(BpfCmd.ENABLE_STATS, ENABLE_STATS_ATTR, { type }).ret;
}

/** BPF_ITER_CREATE: an fd whose read(2) runs the iterator program of the link. */
export function iterCreate(linkFd: number, flags = 0): number {
  return bpfCall(BpfCmd.ITER_CREATE, ITER_CREATE_ATTR, { link_fd: linkFd, flags }).ret;
}

/** BPF_TASK_FD_QUERY: what a perf event / raw tracepoint fd of a process is attached to. */
export function taskFdQuery(attr: Encodable<typeof TASK_FD_QUERY_ATTR>): BpfResult {
  return bpfCall(BpfCmd.TASK_FD_QUERY, TASK_FD_QUERY_ATTR, attr);
}

/** BPF_TOKEN_CREATE: a BPF token from a bpffs mounted with delegation options. */
export function tokenCreate(bpffsFd: number, flags = 0): number {
  return bpfCall(BpfCmd.TOKEN_CREATE, TOKEN_CREATE_ATTR, { bpffs_fd: bpffsFd, flags }).ret;
}

/** close(2) of an fd; errors other than EINTR are reported (a double close is a bug). */
export function closeFd(fd: number): void {
  const ret = syscalls().close(fd);
  if (ret < 0 && ret !== -4) throw new SyscallError("close", -ret, { context: `fd ${fd}` });
}
