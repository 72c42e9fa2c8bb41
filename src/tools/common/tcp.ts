/** TCP helpers shared by tcpstates, tcplife and tcpconnect. */
import { AF_INET, ipAddress } from "./format.js";

/** TCP states by number (include/net/tcp_states.h), as libbpf-tools names them. */
export const TCP_STATES: readonly string[] = [
  "UNKNOWN",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "CLOSING",
  "NEW_SYN_RECV",
];

/** A state's name ("UNKNOWN" past the table). */
export const tcpStateName = (state: number): string => TCP_STATES[state] ?? "UNKNOWN";

/** The address at `offset` of an event: 4 bytes for AF_INET, 16 for AF_INET6. */
export function eventAddress(data: Uint8Array, offset: number, family: number): string {
  return ipAddress(data.subarray(offset, offset + (family === AF_INET ? 4 : 16)), family);
}

/** 4 or 6, the IP column of the TCP tools. */
export const ipVersion = (family: number): number => (family === AF_INET ? 4 : 6);
