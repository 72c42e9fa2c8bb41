/** Packets of a capture file, whatever its format. */

/** LINKTYPE_ETHERNET: the only link type the packet program types take. */
export const LINKTYPE_ETHERNET = 1;

export interface CapturedPacket {
  /** The captured bytes (may be shorter than the packet on the wire). */
  readonly data: Uint8Array;
  /** Length on the wire. */
  readonly originalLength: number;
  /** Capture time, nanoseconds since the epoch. */
  readonly timestampNs: bigint;
  /** Link type of the packet's interface. */
  readonly linkType: number;
}

export interface Capture {
  readonly format: "pcap" | "pcapng";
  readonly packets: readonly CapturedPacket[];
}
