import { TsbpfError } from "../../errors.js";
import { socketSyscalls } from "./socket-syscalls.js";

/**
 * The ifindex of an interface of the current network namespace (if_nametoindex(3)); numbers
 * are returned as they are.
 */
export function interfaceIndex(iface: number | string): number {
  if (typeof iface === "number") {
    if (!Number.isInteger(iface) || iface <= 0) throw new TsbpfError(`bad interface index ${iface}`);
    return iface;
  }
  if (/^\d+$/.test(iface)) return Number(iface);
  const index = socketSyscalls().ifNameToIndex(iface);
  if (index <= 0) throw new TsbpfError(`no network interface '${iface}' in this network namespace`);
  return index;
}
